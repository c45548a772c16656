pytest_plugins = ["lumbung.platform.testing", "tests.support.fixtures", "tests.support.browser"]
