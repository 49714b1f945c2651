"""Infrastructure: settings, connections, errors, shipped resources, the embedded server, locks, notifications."""
