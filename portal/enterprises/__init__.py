"""Enterprises: the units that hold, buy and sell energy-use rights."""
