print("Hello from my first Docker image!")
