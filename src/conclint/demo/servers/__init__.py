"""The three server models the demo compares: prefork, threaded and evented."""
