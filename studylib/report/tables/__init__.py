"""Tables of the stage reports (pandas Styler / DataFrames for display)."""
