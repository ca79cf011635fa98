"""pytest plugin entry point (declared in pyproject); fixtures are added as the kit grows."""
