"""The user configuration file and the state directory: where they are, what they accept, precedence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.cli import build_parser
from tui.commands.shared.settings import Settings, command_settings
from tui.config import ConfigError, UserConfig, config_path, load_config, state_dir


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_path_prefers_env_then_xdg_then_home(tmp_path: Path) -> None:
    assert config_path({"AIO_CERTS_CONFIG": "/etc/x.toml", "HOME": "/h"}) == Path("/etc/x.toml")
    assert config_path({"XDG_CONFIG_HOME": "/xdg", "HOME": "/h"}) == Path("/xdg/aio-certs/config.toml")
    assert config_path({"HOME": "/h"}) == Path("/h/.config/aio-certs/config.toml")


def test_missing_default_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(environ={"HOME": str(tmp_path)})
    assert config == UserConfig()
    assert config.read_only is False and config.source is None


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file"):
        load_config(environ={"AIO_CERTS_CONFIG": str(tmp_path / "nope.toml"), "HOME": str(tmp_path)})


def test_full_file_is_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'read_only = true\nstate_dir = "~/st"\nauth = "Device-Code"\n'
        'cloud = "azurechinacloud"\nexpiring_days = "60/14"\n',
    )
    config = load_config(path, environ={"HOME": str(tmp_path)})
    assert config.read_only is True
    assert config.state_dir == Path("~/st").expanduser()
    assert config.auth == "device-code"
    assert config.cloud == "AzureChinaCloud"
    assert config.expiring_days == "60/14"
    assert config.source == path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("readonly = true\n", "unknown key 'readonly'"),
        ('read_only = "yes"\n', "read_only: must be true or false"),
        ('auth = "password"\n', "auth: unknown mode 'password'"),
        ('cloud = "Mars"\n', "cloud: unknown cloud 'Mars'"),
        ('expiring_days = "7/30"\n', "CRIT must not exceed WARN"),
        ('expiring_days = "thirty"\n', "expected WARN/CRIT"),
        ("state_dir = 3\n", "state_dir: must be a non-empty string"),
        ("read_only = tru\n", "not valid TOML"),
    ],
)
def test_bad_files_are_one_line_errors_naming_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert fragment in message
    assert str(path) in message
    assert "\n" not in message


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'auth = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_state_dir_precedence(tmp_path: Path) -> None:
    from_file = UserConfig(state_dir=tmp_path / "cfg")
    assert state_dir(from_file, environ={"AIO_CERTS_STATE_DIR": "/env", "HOME": "/h"}) == Path("/env")
    assert state_dir(from_file, environ={"XDG_STATE_HOME": "/xdg", "HOME": "/h"}) == tmp_path / "cfg"
    assert state_dir(None, environ={"XDG_STATE_HOME": "/xdg", "HOME": "/h"}) == Path("/xdg/aio-certs")
    assert state_dir(None, environ={"HOME": "/h"}) == Path("/h/.local/state/aio-certs")


def _settings(argv: list[str], config: UserConfig, **environ: str) -> Settings:
    """The settings of one run of ``aio-certs ARGV`` with ``config`` as the config file."""
    return command_settings(build_parser().parse_args(argv), config, environ={"HOME": "/h", **environ})


def test_flags_override_config_but_read_only_only_turns_on() -> None:
    config = UserConfig(read_only=True, auth="cli", cloud="AzureCloud", expiring_days="60/14")
    settings = _settings(["status", "--auth", "demo"], config)
    assert settings.vault.auth == "demo"  # the flag wins
    # Unset flags take the file's.
    assert settings.vault.cloud == "AzureCloud"
    assert (settings.model.expiring_warn_days, settings.model.expiring_critical_days) == (60, 14)
    assert settings.read_only is True  # a read-only workstation stays read-only
    assert _settings(["renew", "--cloud", "azurechinacloud"], config).vault.cloud == "AzureChinaCloud"

    writable = _settings(["status", "--read-only"], UserConfig(read_only=False))
    assert writable.read_only is True and writable.vault.auth is None


def test_the_files_auth_comes_before_the_environments() -> None:
    # --auth, then auth in the config file, then $AIO_CERTS_AUTH.
    assert _settings(["status"], UserConfig(auth="cli"), AIO_CERTS_AUTH="demo").vault.auth == "cli"
    assert _settings(["status"], UserConfig(), AIO_CERTS_AUTH="demo").vault.auth == "demo"
    assert _settings(["status", "--auth", "default"], UserConfig(auth="cli")).vault.auth == "default"


def test_the_state_directory_is_resolved_into_the_settings(tmp_path: Path) -> None:
    config = UserConfig(state_dir=tmp_path / "cfg")
    assert _settings(["journal"], config).state_dir == tmp_path / "cfg"
    assert _settings(["journal"], config, AIO_CERTS_STATE_DIR="/env").state_dir == Path("/env")


def test_a_config_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path) -> None:
    # A FIFO blocked every command in open(); /dev/zero filled the memory (adversarial pass, issue 9).
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"named pipe"):
        load_config(environ={"AIO_CERTS_CONFIG": str(fifo)})
    with pytest.raises(ConfigError, match=r"config /dev/zero: .*(device|not a regular file)"):
        load_config(environ={"AIO_CERTS_CONFIG": "/dev/zero"})
    big = tmp_path / "big.toml"
    big.write_text("x = 1\n" * 20000)
    with pytest.raises(ConfigError, match=r"big.toml"):
        load_config(environ={"AIO_CERTS_CONFIG": str(big)})
