"""Site-file text shared by the tests of cameras on the floor and the fusion: one sensing
room, the lobby, 6 × 5 m with its origin corner at (1, 0.5) on the floor plan, two nodes."""

LOBBY = """
[[rooms]]
id = "lobby"
name = "Lobby"
width_m = 6.0
depth_m = 5.0
height_m = 3.0
origin = { x = 1.0, y = 0.5 }

[[sensing_nodes]]
id = "a"
room = "lobby"
position = { x = 0.1, y = 0.1, z = 1.0 }

[[sensing_nodes]]
id = "b"
room = "lobby"
position = { x = 5.9, y = 4.9, z = 1.0 }
"""
