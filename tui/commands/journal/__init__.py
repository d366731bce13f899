"""List the journals of earlier applies, and resume or roll back one that was interrupted or failed.

Every change is journaled step by step in the state directory before it is written. An apply killed
part way (or that failed on a lost connection or a refused write) leaves its journal pending; every
change command mentions pending journals when it starts. `resume ID` runs the remaining steps against
the objects as they are now; `rollback ID` undoes what was done, newest step first. A journal file that
cannot be read whole (empty, garbage, no plan record...) is listed as UNUSABLE with what is wrong, and is
never resumed or rolled back. Resume and rollback are audited like every change, refusals included.
"""
