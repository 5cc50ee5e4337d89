"""Column types every package shares. Quantities, prices and amounts are exact decimals, never
floats; portal/forms.py bounds input to what these columns hold."""

from sqlalchemy import Numeric

Quantity = Numeric(18, 4)  # tce or t
Price = Numeric(14, 2)  # yuan per unit
Amount = Numeric(20, 2)  # yuan
