"""The row layouts Loom's manifest packs and Fabric's kernel reads: one place, no Taichi import.

Objects are rows of OBJ_FLOATS float32 and OBJ_INTS int32; materials rows of MAT_FLOATS; lights rows of
LIGHT_FLOATS; clusters rows of (centre xyz, radius) float32 with (first, end) object ranges in int32.
"""

from __future__ import annotations

# Primitive type codes.
SPHERE = 0
BOX = 1
PLANE = 2
TORUS = 3
CAPSULE = 4
CYLINDER = 5
PRIMITIVE_CODES = {
    "sphere": SPHERE,
    "box": BOX,
    "plane": PLANE,
    "torus": TORUS,
    "capsule": CAPSULE,
    "cylinder": CYLINDER,
}

# Object row (f32): translate, rotation matrix (row-major, local to world), per-axis scale, smallest scale,
# bounding-sphere radius in world units (negative: unbounded, a plane), four primitive parameters.
OBJ_TRANSLATE = 0
OBJ_ROTATION = 3
OBJ_SCALE = 12
OBJ_MIN_SCALE = 15
OBJ_BOUND = 16
OBJ_PARAMS = 17
OBJ_FLOATS = 21

# Object row (i32): primitive type, material index, flags.
OBJ_TYPE = 0
OBJ_MATERIAL = 1
OBJ_FLAGS = 2
OBJ_INTS = 3
FLAG_NO_SHADOW = 1

# Material row (f32): albedo rgb, emission rgb, metallic, roughness.
MAT_FLOATS = 8

# Light row (f32): kind, position (point) or unit direction of travel (directional), radiance rgb.
LIGHT_POINT = 0
LIGHT_DIRECTIONAL = 1
LIGHT_FLOATS = 7

CLUSTER_SIZE = 8  # objects per culling cluster
