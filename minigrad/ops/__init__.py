"""Ops by family; each op is one ``Function`` subclass with its forward and backward."""
