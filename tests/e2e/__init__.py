"""End-to-end flows: the real CLI and app on the encord backend (the SDK against the fake) and on the sandbox."""
