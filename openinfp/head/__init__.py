"""Stage 1 for faces: head tracker, the ``head`` motion space and the portrait renderer."""
