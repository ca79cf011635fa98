"""Operation wiring as the code states it: which classes handle which operations, and where
each operation is registered, dispatched and looked up.

`handlers` answers "is this a handler?" for LG403 and the catalogue alike; `catalogue` is the
pure model behind `layerguard operations`, and `render` its text, JSON and markdown forms.
Everything here is a function of the ProjectIndex: nothing reads files or prints.
"""
