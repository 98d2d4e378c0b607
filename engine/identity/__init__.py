"""Identity: who is who across cameras (faces), BLE devices and sensing blobs."""
