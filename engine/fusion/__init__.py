"""One person across senses: cameras calibrated to the floor, camera tracks joined to sensing
blobs, and names carried between them."""
