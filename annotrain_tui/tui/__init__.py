"""The Textual front. Talks to the core services only, never to a backend module directly."""
