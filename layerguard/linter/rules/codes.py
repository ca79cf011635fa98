"""Every rule code and whether it is enabled by default, as plain data.

Selecting rules must not import the rules: a warm run answered by the results cache never
runs one, and importing every rule module (and the card model they use) costs more than the
rest of such a run. A test keeps this table equal to the rule classes.
"""

ENABLED_BY_DEFAULT: dict[str, bool] = {
    "LG001": True,
    "LG002": True,
    "LG101": True,
    "LG102": True,
    "LG103": True,
    "LG104": True,
    "LG201": True,
    "LG202": True,
    "LG301": True,
    "LG302": True,
    "LG303": True,
    "LG304": True,
    "LG305": True,
    "LG306": True,
    "LG401": True,
    "LG402": True,
    "LG403": True,
    "LG404": False,
    "LG901": True,
    "LG902": True,
    "LG903": True,
    "LG904": True,
}
