"""Figures of the stage reports (matplotlib, no pyplot state)."""
