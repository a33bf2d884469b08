"""One runner per scenario: ``SCENARIO`` says what it reproduces, ``run(scale)`` drives it on
real servers and returns a `Result` per variant (see `conclint.demo.registry`)."""
