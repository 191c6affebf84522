# Stand-in for jupyter_server_config.py
c = get_config()  # noqa
c.ServerApp.ip = "0.0.0.0"  # noqa: S104 - inside a container
c.ServerApp.open_browser = False
