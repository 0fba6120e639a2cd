"""A lit triangle mesh whose vertex and normal buffers are updated in place every frame.

vispy's ``Mesh.set_data`` rebuilds its program on every call (measured: 20 fps under software GL);
this visual compiles its shader once and only uploads new positions / normals (ENVIRONMENT.md).
Lighting: hemisphere ambient plus two fixed lights (key and fill), two-sided; a uniform tint
marks generated frames; a uniform alpha draws the onion-skin ghosts.
"""

from __future__ import annotations

import numpy as np
from vispy import gloo
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

VERT = """
attribute vec3 a_position;
attribute vec3 a_normal;
attribute vec4 a_color;
varying vec4 v_color;
varying vec3 v_normal;
void main() {
    v_color = a_color;
    v_normal = a_normal;
    gl_Position = $transform(vec4(a_position, 1.0));
}
"""

FRAG = """
varying vec4 v_color;
varying vec3 v_normal;
uniform vec4 u_tint;
uniform float u_alpha;
void main() {
    vec3 n = normalize(v_normal);
    vec3 key = normalize(vec3(0.45, 0.65, 0.75));
    vec3 fill = normalize(vec3(-0.6, 0.2, 0.5));
    vec3 rim = normalize(vec3(0.0, 0.4, -1.0));
    float hemi = 0.5 + 0.5 * n.y;
    float light = 0.30 + 0.18 * hemi
                + 0.55 * max(dot(n, key), 0.0)
                + 0.22 * max(dot(n, fill), 0.0)
                + 0.25 * pow(max(dot(n, rim), 0.0), 2.0);
    vec3 c = v_color.rgb * light;
    c = mix(c, u_tint.rgb * (0.35 + 0.65 * light), u_tint.a);
    gl_FragColor = vec4(c, v_color.a * u_alpha);
}
"""


class LitMeshVisual(Visual):
    """Indexed triangles; ``set_pose(positions, normals)`` updates the buffers only."""

    def __init__(self, faces: np.ndarray, colors: np.ndarray, n_vertices: int, alpha: float = 1.0) -> None:
        Visual.__init__(self, vcode=VERT, fcode=FRAG)
        self._pos = gloo.VertexBuffer(np.zeros((n_vertices, 3), np.float32))
        self._nrm = gloo.VertexBuffer(np.tile(np.float32([0, 1, 0]), (n_vertices, 1)))
        self._col = gloo.VertexBuffer(np.asarray(colors, np.float32))
        self.shared_program["a_position"] = self._pos
        self.shared_program["a_normal"] = self._nrm
        self.shared_program["a_color"] = self._col
        self.shared_program["u_tint"] = (0.0, 0.0, 0.0, 0.0)
        self.shared_program["u_alpha"] = float(alpha)
        self._index_buffer = gloo.IndexBuffer(np.asarray(faces, np.uint32))
        self._draw_mode = "triangles"
        self._bounds = np.array([[-1.0, 1.0]] * 3)
        if alpha < 1.0:
            self.set_gl_state("translucent", depth_test=True, cull_face=False, depth_mask=False)
        else:
            # depth writes on explicitly: a ghost drawn before leaves them off in the GL state
            self.set_gl_state("opaque", depth_test=True, cull_face=False, depth_mask=True)

    def set_pose(self, positions: np.ndarray, normals: np.ndarray) -> None:
        self._pos.set_data(np.ascontiguousarray(positions, np.float32))
        self._nrm.set_data(np.ascontiguousarray(normals, np.float32))
        self._bounds = np.stack([positions.min(0), positions.max(0)], 1)
        self.update()

    def set_colors(self, colors: np.ndarray) -> None:
        self._col.set_data(np.ascontiguousarray(colors, np.float32))
        self.update()

    def set_tint(self, rgba: tuple[float, float, float, float]) -> None:
        self.shared_program["u_tint"] = tuple(float(c) for c in rgba)
        self.update()

    def set_alpha(self, alpha: float) -> None:
        self.shared_program["u_alpha"] = float(alpha)
        self.update()

    def _prepare_transforms(self, view) -> None:
        view.view_program.vert["transform"] = view.get_transform()

    def _prepare_draw(self, view) -> None:
        return None

    def _compute_bounds(self, axis: int, view):
        return tuple(self._bounds[axis])


LitMesh = create_visual_node(LitMeshVisual)
