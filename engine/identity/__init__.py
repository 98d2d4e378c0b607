"""Identity: who is who across cameras (faces), BLE devices and sensing blobs.

- :mod:`engine.identity.faces`, :mod:`engine.identity.faces_store`: the face encoder and the
  face memory (people and their embeddings).
- :mod:`engine.identity.devices`: the BLE device registry (which phone or tag each person
  carries).
- :mod:`engine.identity.ble`: BLE identities: where a registered device is from the RSSI the
  nodes hear, and which sensing blob carries it (pure computation; a sensing room feeds it).
- :mod:`engine.identity.ble_scan`: the console host's own Bluetooth adapter, scanned with bleak.
- :mod:`engine.identity.people`, :mod:`engine.identity.introduced`,
  :mod:`engine.identity.erasure`, :mod:`engine.identity.actions`: the people read back, a name
  from an introduction, erasing a person, and the device registry's use cases.
"""
