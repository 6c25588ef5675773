"""Scene sampling: what surrounds and covers the rendered face.

Image-space parts (this package's other helpers add appearance/lighting of the head):

- ``background``: backgrounds behind the head (noise, gradients, shapes, clutter, a folder).
- ``occluders``: hands, masks, glasses, hair, caps, objects and user RGBA images over the face.
- ``degrade``: camera/compression degradations that never move image content.
- ``compose``, ``textures``, ``image_folder``: shared helpers.

Convention (all of them): images are uint8 RGB ``(H, W, 3)``, sRGB-encoded display values as
written to disk (BGR only at cv2 file I/O; blending happens on these encoded values);
alpha and masks are float32 in [0, 1], ``(H, W)``; points are pixels with the origin at the
centre of the top-left pixel; every random choice comes from an ``np.random.Generator``.
"""
