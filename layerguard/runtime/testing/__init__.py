"""Testing kit: the pytest plugin's fixtures (``layerguard.runtime.testing.plugin``, loaded
automatically through the ``pytest11`` entry point) and ``OperationRegistry.override``."""
