"""Safety: the one transaction every writing command goes through, and its crash journal."""
