"""Local fakes of the providers herald talks to, speaking their real wire formats on 127.0.0.1."""
