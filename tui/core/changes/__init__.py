"""Changes to the OPC UA lists, pure: the staged change set, the official tool's file rules,
validation, the plan and its operations, how a plan is shown, the journal's records, renewal warnings."""
