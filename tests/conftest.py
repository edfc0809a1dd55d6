"""Shared fixtures: named users for permission tests (alice, bob, charlie) come with the apps that
need them; here only what every test package uses."""
