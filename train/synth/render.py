"""Rasterising sphere-swept primitives with a z-buffer and Lambert + ambient +
Blinn-Phong shading.

Each capsule (a segment with radii at both ends) is projected to the image;
for every pixel of its window the distance ``d`` to the projected axis gives
the bulge ``h = sqrt(r^2 - d^2)`` of a sphere-swept surface, hence a depth
(axis depth minus ``h`` converted to metres) and a normal ``(dx, dy, -h)/r``.
A shared z-buffer across every part of every hand (and the distractors) keeps
the nearest surface. Planar polygons (the palm faces) use the exact plane
depth. Each pixel keeps the id of a *material* (an index into a table of
albedo, specular strength, hand instance and part id), so colours, hand
masks and part maps all come from the same buffers.
"""
from __future__ import annotations

import numpy as np

from .hand import HandShape

#: Hand part ids of the ``parts`` label map.
PART_NAMES: tuple[str, ...] = (
    "background", "palm",
    "thumb_metacarpal", "thumb_proximal", "thumb_distal",
    "index_proximal", "index_middle", "index_distal",
    "middle_proximal", "middle_middle", "middle_distal",
    "ring_proximal", "ring_middle", "ring_distal",
    "pinky_proximal", "pinky_middle", "pinky_distal",
    "forearm",
)
PART_FOREARM = 17
NUM_PARTS = len(PART_NAMES)

# skin albedo anchors, light to dark (RGB, 0..1)
_SKIN_ANCHORS = np.array([
    [247, 214, 190], [236, 192, 160], [222, 170, 132], [200, 140, 100],
    [168, 110, 75], [130, 84, 56], [96, 62, 42], [70, 46, 33],
], np.float32) / 255.0


def random_skin(rng: np.random.Generator) -> np.ndarray:
    """An RGB albedo (0..1) across the human range of skin tones."""
    u = rng.uniform(0, len(_SKIN_ANCHORS) - 1)
    i = min(int(u), len(_SKIN_ANCHORS) - 2)
    c = _SKIN_ANCHORS[i] * (1 - (u - i)) + _SKIN_ANCHORS[i + 1] * (u - i)
    c = c * rng.uniform(0.92, 1.06) + rng.normal(0, 0.02, 3)  # redness / yellowness
    return np.clip(c, 0.05, 1.0).astype(np.float32)


def palm_skin(skin: np.ndarray) -> np.ndarray:
    """Palms are lighter and pinker than the back, more so for dark skin."""
    dark = float(np.clip(1.0 - skin.mean() / 0.8, 0, 1))
    pink = np.array([0.93, 0.74, 0.66], np.float32)
    return np.clip(skin * (1 - 0.45 * dark) + pink * 0.45 * dark + 0.02, 0, 1).astype(np.float32)


class Rasterizer:
    """Z-buffered renderer of capsules and polygons for a pinhole camera
    (focal ``f`` in pixels, principal point ``cx, cy``; pixel (i, j) covers
    [j, j+1) x [i, i+1), centres at +0.5)."""

    def __init__(self, h, w, f, cx=None, cy=None, light=(0.3, -0.5, -0.8), near=0.04):
        self.h, self.w, self.f = int(h), int(w), float(f)
        self.cx = w / 2.0 if cx is None else float(cx)
        self.cy = h / 2.0 if cy is None else float(cy)
        self.near = near
        self.zbuf = np.full((self.h, self.w), np.inf, np.float32)
        self.mat = np.full((self.h, self.w), -1, np.int16)
        self.diff = np.zeros((self.h, self.w), np.float32)
        self.spec = np.zeros((self.h, self.w), np.float32)
        self.xs = np.arange(self.w, dtype=np.float32) + 0.5
        self.ys = np.arange(self.h, dtype=np.float32) + 0.5
        L = np.asarray(light, np.float32)
        self.L = L / np.linalg.norm(L)
        H = self.L + np.array([0, 0, -1], np.float32)
        self.H = H / np.linalg.norm(H)
        # material table
        self.albedo: list[np.ndarray] = []
        self.shine: list[float] = []
        self.hand: list[int] = []
        self.part: list[int] = []

    def material(self, albedo, *, hand=-1, part=0, shine=0.15) -> int:
        self.albedo.append(np.asarray(albedo, np.float32))
        self.shine.append(float(shine))
        self.hand.append(int(hand))
        self.part.append(int(part))
        return len(self.albedo) - 1

    def project(self, p):
        p = np.asarray(p, np.float64)
        z = p[..., 2]
        return self.f * p[..., 0] / z + self.cx, self.f * p[..., 1] / z + self.cy, z

    def capsule(self, a, b, ra, rb, mat):
        """A tapered capsule from 3D point ``a`` (radius ``ra``) to ``b``
        (radius ``rb``), camera coordinates in metres."""
        a = np.asarray(a, np.float64)
        b = np.asarray(b, np.float64)
        near = self.near
        if a[2] < near and b[2] < near:
            return
        if a[2] < near or b[2] < near:  # clip to the near plane
            t = (near - a[2]) / (b[2] - a[2])
            c = a + t * (b - a)
            rc = ra + t * (rb - ra)
            if a[2] < near:
                a, ra = c, rc
            else:
                b, rb = c, rc
        f = self.f
        za, zb = a[2], b[2]
        ua, va = f * a[0] / za + self.cx, f * a[1] / za + self.cy
        ub, vb = f * b[0] / zb + self.cx, f * b[1] / zb + self.cy
        pa, pb = f * ra / za, f * rb / zb
        x0 = max(int(np.floor(min(ua - pa, ub - pb))), 0)
        x1 = min(int(np.ceil(max(ua + pa, ub + pb))) + 1, self.w)
        y0 = max(int(np.floor(min(va - pa, vb - pb))), 0)
        y1 = min(int(np.ceil(max(va + pa, vb + pb))) + 1, self.h)
        if x0 >= x1 or y0 >= y1:
            return
        qx = (self.xs[x0:x1] - np.float32(ua))[None, :]
        qy = (self.ys[y0:y1] - np.float32(va))[:, None]
        vx, vy = np.float32(ub - ua), np.float32(vb - va)
        ll = float(vx * vx + vy * vy)
        if ll > 1e-6:
            t = qx * np.float32(vx / ll) + qy * np.float32(vy / ll)
            np.clip(t, 0.0, 1.0, out=t)
            dx = qx - t * vx
            dy = qy - t * vy
            r = np.float32(pa) + t * np.float32(pb - pa)
            zax = np.float32(za) + t * np.float32(zb - za)
        else:
            t = None
            dx = np.broadcast_to(qx, (y1 - y0, x1 - x0))
            dy = np.broadcast_to(qy, (y1 - y0, x1 - x0))
            r = np.float32(max(pa, pb))
            zax = np.float32(min(za, zb))
        h2 = r * r - (dx * dx + dy * dy)
        inside = h2 > 0
        if not inside.any():
            return
        h = np.sqrt(np.maximum(h2, 0))
        z = zax - h * np.float32(0.5 * (za + zb) / f)
        zwin = self.zbuf[y0:y1, x0:x1]
        upd = inside & (z < zwin)
        if not upd.any():
            return
        inv_r = 1.0 / r
        L, H = self.L, self.H
        nd = (dx * L[0] + dy * L[1] - h * L[2]) * inv_r
        ns = (dx * H[0] + dy * H[1] - h * H[2]) * inv_r
        np.copyto(zwin, z, where=upd)
        np.copyto(self.mat[y0:y1, x0:x1], np.int16(mat), where=upd)
        np.copyto(self.diff[y0:y1, x0:x1], nd, where=upd)
        np.copyto(self.spec[y0:y1, x0:x1], ns, where=upd)

    def polygon(self, pts, normal, mat):
        """A planar polygon (n, 3) in camera coordinates with outward
        ``normal``; drawn only when it faces the camera."""
        import cv2

        pts = np.asarray(pts, np.float64)
        n = np.asarray(normal, np.float64)
        n = n / np.linalg.norm(n)
        if np.any(pts[:, 2] < self.near):
            return
        c = pts.mean(0)
        if n @ (-c) <= 0:
            return  # back face
        u, v, _ = self.project(pts)
        x0 = max(int(np.floor(u.min())), 0)
        x1 = min(int(np.ceil(u.max())) + 1, self.w)
        y0 = max(int(np.floor(v.min())), 0)
        y1 = min(int(np.ceil(v.max())) + 1, self.h)
        if x0 >= x1 or y0 >= y1:
            return
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        poly = np.round(np.stack([u - x0, v - y0], 1) * 16).astype(np.int32)
        cv2.fillPoly(m, [poly], 1, lineType=cv2.LINE_8, shift=4)
        inside = m.astype(bool)
        if not inside.any():
            return
        rx = ((self.xs[x0:x1] - self.cx) / self.f)[None, :]
        ry = ((self.ys[y0:y1] - self.cy) / self.f)[:, None]
        den = np.float32(n[0]) * rx + np.float32(n[1]) * ry + np.float32(n[2])
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.float32(n @ c) / den
        zwin = self.zbuf[y0:y1, x0:x1]
        upd = inside & (z > 0) & (z < zwin)
        if not upd.any():
            return
        # "pillow" normals: tilt outwards near the silhouette (a rounded slab)
        dist = cv2.distanceTransform(m, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        dist = cv2.GaussianBlur(dist, (0, 0), 1.5)
        rho = max(float(dist.max()), 1.0)
        gy, gx = np.gradient(dist)
        gn = np.sqrt(gx * gx + gy * gy) + 1e-6
        tilt = (1.0 - dist / rho) ** 2 * np.float32(1.2) / gn
        nx = np.float32(n[0]) - gx * tilt
        ny = np.float32(n[1]) - gy * tilt
        nz = np.float32(n[2])
        inv = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz)
        L, H = self.L, self.H
        nd = (nx * L[0] + ny * L[1] + nz * L[2]) * inv
        ns = (nx * H[0] + ny * H[1] + nz * H[2]) * inv
        np.copyto(zwin, z, where=upd)
        np.copyto(self.mat[y0:y1, x0:x1], np.int16(mat), where=upd)
        np.copyto(self.diff[y0:y1, x0:x1], nd, where=upd)
        np.copyto(self.spec[y0:y1, x0:x1], ns, where=upd)

    def flat(self, mask, depth, mat, shade=0.7):
        """A flat screen-aligned layer (an occluder) at ``depth`` where ``mask``."""
        upd = mask & (depth < self.zbuf)
        self.zbuf[upd] = depth
        self.mat[upd] = mat
        self.diff[upd] = shade
        self.spec[upd] = 0.0

    # --- outputs --------------------------------------------------------------
    def shade(self, ambient=0.35, diffuse=0.8, light_color=(1, 1, 1), shininess=12.0,
              wrap=0.35, textures: dict | None = None):
        """RGB float image (0..1, black where empty) and coverage (0/1)."""
        rgb = np.zeros((self.h, self.w, 3), np.float32)
        cov = self.mat >= 0
        rows, cols = np.flatnonzero(cov.any(1)), np.flatnonzero(cov.any(0))
        if len(rows) == 0:
            return rgb, cov
        ys = slice(rows[0], rows[-1] + 1)
        xs = slice(cols[0], cols[-1] + 1)
        albedo = np.concatenate([np.array(self.albedo, np.float32).reshape(-1, 3),
                                 np.zeros((1, 3), np.float32)])
        shine = np.append(np.array(self.shine, np.float32), 0.0).astype(np.float32)
        matw = self.mat[ys, xs]
        mat = matw.astype(np.intp)  # -1 indexes the empty row at the end
        lc = np.asarray(light_color, np.float32)
        # wrapped Lambert (a cheap stand-in for skin's subsurface scattering)
        d = np.float32(ambient) + np.float32(diffuse) * np.clip(
            (self.diff[ys, xs] + np.float32(wrap)) / np.float32(1 + wrap), 0, 1)
        sp = np.clip(self.spec[ys, xs], 0, 1) ** np.float32(shininess) * shine[mat]
        win = albedo[mat] * d[..., None]
        if textures:
            for m, tex in textures.items():
                sel = matw == m
                if sel.any():
                    win[sel] *= tex[ys, xs][sel]
        win += sp[..., None]
        win *= lc
        rgb[ys, xs] = win
        return rgb, cov

    def lut(self, values, empty=0, dtype=np.uint8):
        """Map the material buffer through a per-material value list."""
        table = np.append(np.asarray(values), empty).astype(dtype)
        return table[self.mat.astype(np.intp)]

    def hand_ids(self):
        """HxW int: hand instance index (0-based) or -1."""
        return self.lut(self.hand, -1, np.int16)

    def parts(self):
        return self.lut(self.part, 0, np.uint8)

    def depth_at(self, u, v, radius=1):
        """Minimum z-buffer depth in a (2r+1)^2 neighbourhood of pixels (u, v)."""
        out = np.full(len(u), np.inf, np.float32)
        for k, (x, y) in enumerate(zip(u, v)):
            xi, yi = int(np.floor(x)), int(np.floor(y))
            if 0 <= xi < self.w and 0 <= yi < self.h:
                out[k] = self.zbuf[max(yi - radius, 0):yi + radius + 1,
                                   max(xi - radius, 0):xi + radius + 1].min()
        return out


def add_hand(rast: Rasterizer, shape: HandShape, geom: dict, R: np.ndarray, T: np.ndarray,
             hand_index: int, skin: np.ndarray, *, forearm: float = 0.0,
             sleeve=None, sleeve_cut: float = 0.1, nail_color=None):
    """Draw one hand (from :func:`hand_geometry`) posed by ``R, T`` (hand to
    camera). ``forearm``: length in metres of the arm drawn from the wrist
    (0 for none); ``sleeve``: RGB albedo of a sleeve covering the arm beyond a
    point ``sleeve_cut`` metres from the wrist, or None. Returns the camera-frame joints (21, 3)."""
    joints = geom["joints"] @ R.T + T
    n_cam = R @ geom["palm_normal"]
    centre = geom["palm_outline"].mean(0) @ R.T + T
    palm_front = float(n_cam @ (-centre)) > 0  # palm side faces the camera
    palm_col = palm_skin(skin)
    m_skin = rast.material(skin, hand=hand_index, part=1, shine=0.12)
    m_palm = rast.material(palm_col if palm_front else skin, hand=hand_index, part=1, shine=0.1)
    mats = {1: m_palm}
    for p in range(2, 17):
        mats[p] = rast.material(skin, hand=hand_index, part=p, shine=0.12)
    for a, b, ra, rb, part in geom["capsules"]:
        rast.capsule(a @ R.T + T, b @ R.T + T, ra, rb, mats[part])
    ht = geom["palm_half_thickness"]
    side = 1.0 if palm_front else -1.0
    poly = (geom["palm_outline"] + side * ht * geom["palm_normal"]) @ R.T + T
    rast.polygon(poly, side * n_cam, m_palm)
    if nail_color is None:
        nail_color = np.clip(skin * 0.6 + np.array([0.95, 0.8, 0.78]) * 0.4 + 0.05, 0, 1)
    for f, (c1, c2, r, part) in enumerate(geom["nails"]):
        mn = rast.material(nail_color, hand=hand_index, part=part, shine=0.5)
        rast.capsule(c1 @ R.T + T, c2 @ R.T + T, r, r * 0.9, mn)
    del m_skin
    if forearm > 0:
        d = R @ geom["forearm_dir"]
        w0 = geom["joints"][0] @ R.T + T
        rw = shape.wrist_radius
        m_arm = rast.material(skin, hand=-1, part=17, shine=0.1)
        a = w0 + d * 0.005
        if sleeve is not None:
            cut = min(forearm, sleeve_cut)
            rast.capsule(a, a + d * cut, rw * 1.05, rw * (1.05 + 3 * cut), m_arm)
            m_sl = rast.material(sleeve, hand=-1, part=0, shine=0.03)
            rast.capsule(a + d * cut, a + d * forearm, rw * (1.35 + 3 * cut), rw * 1.9, m_sl)
        else:
            rast.capsule(a, a + d * forearm, rw * 1.0, rw * (1.0 + 1.6 * forearm), m_arm)
    return joints
