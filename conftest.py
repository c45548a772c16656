pytest_plugins = ["lumbung.platform.testing"]
