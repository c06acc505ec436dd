"""Synthetic hands: a procedural articulated 3D hand rendered with shading
into random scenes, with full labels (2D/3D keypoints with visibility, boxes,
hand masks, 18-class part maps, skeleton maps) and gesture templates.

Public API::

    HandShape.random(rng, handedness)          # per-hand shape
    random_pose(rng) / pose_from_template(set, label, rng, noise)  -> HandPose
    forward_kinematics(shape, pose) -> (21, 3) # hand frame, metres
    template_hands(set, labels, rng) / keypoint_hands(n, rng, draw)  # keypoints only, nothing rendered
    GESTURE_SETS                               # {"commands": (...), "asl_letters": (...), ...}
    SceneConfig(...); render_scene(rng, config) -> Sample
    render_hand_crop(rng, size, gesture_set=, label=) -> Sample
    SyntheticSource(config, seed).take(n)
    render_sequence(steps, size=(240, 320), seed=0, transition_frames=8) -> SequenceClip
    preview_grid(samples, path); benchmark(n, size) -> images/s

Part ids (``extras["parts"]``), see :data:`PART_NAMES`: 0 background, 1 palm,
2-4 thumb (metacarpal, proximal, distal), 5-7 index, 8-10 middle, 11-13 ring,
14-16 pinky (proximal, middle, distal phalanx), 17 forearm.
"""
from .hand import (DOF_NAMES, JOINT_LIMITS_DEG, HandPose, HandShape, angles_from_degrees,
                   clip_to_limits, forward_kinematics, hand_geometry, projected_keypoints, random_pose,
                   view_rotation)
from .preview import benchmark, draw_sample, preview_grid
from .render import NUM_PARTS, PART_FOREARM, PART_NAMES, Rasterizer, random_skin
from .scene import (HandSpec, SceneConfig, SyntheticSource, natural_images, place_hand,
                    procedural_background, random_background, render_hand_crop, render_scene)
from .sequence import SequenceClip, render_sequence
from .templates import (GESTURE_SETS, TEMPLATES, keypoint_hands, pose_from_template, template_angles,
                        template_hands, warmup)

__all__ = [
    "DOF_NAMES", "JOINT_LIMITS_DEG", "HandPose", "HandShape", "angles_from_degrees",
    "clip_to_limits", "forward_kinematics", "projected_keypoints", "hand_geometry", "random_pose", "view_rotation",
    "benchmark", "draw_sample", "preview_grid", "NUM_PARTS", "PART_FOREARM", "PART_NAMES",
    "Rasterizer", "random_skin", "HandSpec", "SceneConfig", "SyntheticSource", "natural_images",
    "place_hand", "procedural_background", "random_background", "render_hand_crop",
    "render_scene", "SequenceClip", "render_sequence", "GESTURE_SETS", "TEMPLATES",
    "pose_from_template", "template_angles", "warmup", "keypoint_hands", "template_hands",
]
