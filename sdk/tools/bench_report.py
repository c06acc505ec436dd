"""The report of ``handsdk bench``: tables (text and markdown), JSON, and
the PNG grid of the camera-scene frames where the SDK did worst."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from handsdk.train import metrics as M

from ..keypoints import keypoints_box
from .bench_metrics import (LOCALISED_IOU, TARGET_FALSE_PER_IMAGE, TARGET_GESTURE_GAP, TARGET_LATENCY_RATIO,
                            TARGET_MOTION_MS, TARGET_PCK_GAP, match_hands, scene_frame_counts)
from .bench_samples import human_boxes, pseudo_keypoints

# ------------------------------------------------------------------ tables


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _ms(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def _pf(v) -> str:
    return "n/a" if v is None else ("PASS" if v else "FAIL")


def _diff(a, b) -> str:
    return "-" if a is None or b is None else f"{100 * (a - b):+.1f}"


def report_sections(report: dict) -> list[tuple[str, list[str], list[list[str]], list[str]]]:
    """(title, headers, rows, notes) per table; rendered as text or markdown."""
    secs = []
    mp_ok = (report.get("mediapipe") or {}).get("available", False)
    rows = []
    for r in report["detection"]:
        fp = ""
        if r["images_without_hand"]:
            fp = f"{_pct(r['sdk_false_positive'])} / {_pct(r['mediapipe_false_positive'])}"
        loc = "-"
        if r.get("images_with_human_box"):
            loc = (f"{_pct(r['sdk_localised'])} / {_pct(r['mediapipe_localised'])} "
                   f"({r['images_with_human_box']})")
        rows.append([r["set"], str(r["images_with_hand"]), _pct(r["sdk"]), _pct(r["mediapipe"]),
                     _diff(r["sdk"], r["mediapipe"]), loc, fp or "-",
                     _pf(r["pass"]) + (" (localised)" if r.get("pass_on") == "localised" and r["pass"] is not None
                                       else "")])
    secs.append(("Hands found (detection rate, images with a hand)",
                 ["set", "images", "SDK", "MediaPipe", "SDK-MP (pts)", "on the human box SDK / MP (images)",
                  "false pos. SDK / MP", "SDK >= MP"],
                 rows, ["found: the system reports at least one hand (the set says whether the image has a hand, "
                        "not MediaPipe's pseudo-labels); on the human box: a reported hand's keypoint box overlaps "
                        f"a human-drawn box (YOLO or human keypoints) with IoU >= {LOCALISED_IOU:g}; where human "
                        "boxes exist the target compares that rate"]))
    if report.get("scenes"):
        rows = []
        for r in report["scenes"]:
            sd, md = r["sdk"], r["mediapipe"] or {}
            fpi = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
            sk, mk = r["sdk_keypoints"], r["mediapipe_keypoints"] or {}
            rows.append([r["set"], str(r["images"]), str(sd["humans"]),
                         f"{_pct(sd['found_rate'])} / {_pct(md.get('found_rate'))}",
                         f"{fpi(sd['false_per_image'])} / {fpi(md.get('false_per_image'))}",
                         f"{_pct(sd['images_with_false'])} / {_pct(md.get('images_with_false'))}",
                         f"{sk['hands']}: {_pct(sk['pck@0.1'])} / {_pct(sk['pck@0.2'])}",
                         _pf(r["pass_found"]), _pf(r["pass_false"])])
        secs.append(("Camera scenes: a person in view",
                     ["set", "images", "human boxes", "found on human box SDK / MP", "false hands/img SDK / MP",
                      "images w/ false hand SDK / MP", "SDK vs pseudo-labels: hands, PCK@0.1 / @0.2",
                      "found >= MP", f"false <= {TARGET_FALSE_PER_IMAGE:g}"], rows,
                     [f"found: a reported hand's keypoint box overlaps the human box with IoU >= {M.FOUND_IOU:g} or "
                      f"lies >= {M.FOUND_INSIDE:g} inside it (one box may hold both hands of a sign); false hand: a "
                      f"reported hand overlapping no human box and no MediaPipe pseudo-labelled hand (IoU < "
                      f"{M.FALSE_IOU:g} and < {M.FALSE_INSIDE:g} inside); PCK on the pseudo-labelled hands that both "
                      "systems found (vs MediaPipe full's pseudo-labels, so MediaPipe's own column is ~100%); "
                      "a set~W:H is the set's frames shown at aspect W:H (stored stretched): MediaPipe run on those "
                      "frames finds other hands than its pseudo-labels of the stored ones, so its live hands are the "
                      "reference there (false hands and PCK) and its own false hands are not counted"]))
        rows = []
        for r in report["scenes"]:
            sb, mb = r["sdk"].get("found_by_size") or {}, (r["mediapipe"] or {}).get("found_by_size") or {}
            if not any(v["humans"] for v in sb.values()):
                continue
            rows.append([r["set"]] + [
                "-" if not sb[n]["humans"] else
                f"{sb[n]['humans']}: {_pct(sb[n]['found_rate'])} / {_pct((mb.get(n) or {}).get('found_rate'))}"
                for n, _, _ in M.HAND_SIZES])
        if rows:
            secs.append(("Camera scenes: hands found on the human box, by hand size",
                         ["set"] + [f"{n} ({lo:g}-{'' if hi == float('inf') else f'{hi:g}'} of the frame): "
                                    "boxes: SDK / MP" for n, lo, hi in M.HAND_SIZES], rows,
                         ["size: the human box's longer side over the frame's longer side; a set@F is the set's "
                          "frames shrunk to F in the middle of the frame (a person farther away)"]))
    if report.get("presence"):
        rows = []
        auc = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        for r in report["presence"]:
            rows.append([r["set"], str(r["hands"]), str(r["faces"]), auc(r["auc"]),
                         _pct(r["hands_kept"]), _pct(r["faces_refused"]),
                         f"{r.get('forearms', 0)} / {r.get('background', 0)}",
                         f"{auc(r.get('auc_forearms'))} / {auc(r.get('auc_background'))}",
                         f"{_pct(r.get('forearms_refused'))} / {_pct(r.get('background_refused'))}"])
        thr = report["presence"][0]["threshold"]
        secs.append(("Presence: hands vs faces (SDK landmarker)",
                     ["set", "hands (MediaPipe's)", "faces (OpenCV Haar)", "ROC AUC", f"hands kept at {thr:g}",
                      f"faces refused at {thr:g}", "forearm / background crops", "ROC AUC: forearms / background",
                      f"refused at {thr:g}: forearms / background"], rows,
                     ["the landmarker's presence score on MediaPipe's pseudo-labelled hands (their keypoint boxes) "
                      "and on the faces OpenCV's Haar cascades find in the same frames, each far from every known "
                      "hand; on forearms (a hand-sized square beyond each wrist, away from the knuckles) and on "
                      "background (hand-sized squares far from every hand, face and forearm, 2 a frame); run as "
                      "on a detection (the detector's map as skeleton input); the threshold is the bundle's for "
                      "a new hand"]))
    kh = report.get("keypoints_human")
    if kh:
        rows = []
        s, m = kh["sdk"], kh["mediapipe"] or {}
        rows.append(["hands matched", f"{s['hands']}/{kh['hands']}",
                     f"{m.get('hands', 0)}/{kh['hands']}" if mp_ok else "-", ""])
        for key, lab in (("pck@0.1", "PCK@0.1"), ("pck@0.2", "PCK@0.2"), ("mean_error_px", "mean error (px)")):
            fmt = _ms if key == "mean_error_px" else _pct
            rows.append([lab, fmt(s[key]), fmt(m.get(key)), _pf(kh["pass"]) if key == "pck@0.2" else ""])
        bf = kh.get("both_found")
        if bf and bf["hands"]:
            rows.append([f"PCK@0.2 on the {bf['hands']} hands both found", _pct(bf["sdk"]["pck@0.2"]),
                         _pct(bf["mediapipe"]["pck@0.2"]), ""])
            rows.append(["mean error (px), hands both found", _ms(bf["sdk"]["mean_error_px"]),
                         _ms(bf["mediapipe"]["mean_error_px"]), ""])
        if kh.get("sdk_on_gt_box"):
            g = kh["sdk_on_gt_box"]
            rows.append(["SDK landmarker on the GT box: PCK@0.1 / @0.2",
                         f"{_pct(g['pck@0.1'])} / {_pct(g['pck@0.2'])}", "", ""])
        secs.append((f"Keypoints vs human annotations ({kh['set']}, end to end)",
                     ["measure", "SDK", "MediaPipe", f"PCK@0.2 within {TARGET_PCK_GAP * 100:g} pts"], rows,
                     ["PCK: fraction of labelled keypoints within 0.1 / 0.2 of the hand box size; a GT hand "
                      "is matched to the predicted hand with the best box IoU (> 0.1), unmatched hands are "
                      "left out of PCK and counted in 'hands matched'"]))
    if report.get("agreement"):
        rows = []
        for a in report["agreement"]:
            s, m = a["sdk"], a.get("mediapipe_live") or {}
            rows.append([a["set"], str(a["pseudo_hands"]), str(s["hands"]), _pct(s["pck@0.1"]), _pct(s["pck@0.2"]),
                         _ms(s["mean_error_px"]), _pct(m.get("pck@0.2")) if mp_ok else "-"])
        secs.append(("SDK agreement with MediaPipe's pseudo-labels (mediapipe_landmarks.jsonl)",
                     ["set", "pseudo hands", "SDK matched", "PCK@0.1", "PCK@0.2", "mean err px",
                      "live MediaPipe PCK@0.2 (sanity)"], rows,
                     ["agreement with MediaPipe, not accuracy: the pseudo-labels are MediaPipe's predictions"]))
    if report.get("gestures"):
        rows = []
        for g in report["gestures"]:
            rows.append([g["set"], g["gesture_set"], str(g["samples"]), _pct(g["sdk_end_to_end"]),
                         _pct(g["gesturenet_on_mediapipe"]),
                         _diff(g["sdk_end_to_end"], g["gesturenet_on_mediapipe"]),
                         f"{g['sdk_no_hand']} / {g['mediapipe_no_hand'] if g['mediapipe_no_hand'] is not None else '-'}",
                         _pf(g["pass"])])
        secs.append(("Gestures / letters on real images",
                     ["set", "gesture set", "images", "SDK end to end", "GestureNet on MP keypoints",
                      "diff (pts)", "no hand SDK / MP", f"within {TARGET_GESTURE_GAP * 100:g} pts"], rows,
                     ["both columns use the bundle's GestureNet; the second feeds it MediaPipe's keypoints and "
                      "handedness, so the difference is the SDK detector + pose model's share of the errors; "
                      "an image where no hand is found counts as wrong; the largest hand is classified"]
                     + _unmeasured_sets(report)))
    else:
        secs.append(("Gestures / letters on real images", ["note"],
                     [["no selected set has labels in one of the bundle's gesture sets"]], _unmeasured_sets(report)))
    if report.get("latency"):
        rows = []
        for r in report["latency"]:
            extra = []
            if "sdk_tracked_fraction" in r:
                extra.append(f"SDK tracked {_pct(r['sdk_tracked_fraction'])}")
            if "sdk_hand_fraction" in r:
                extra.append(f"hand found SDK {_pct(r['sdk_hand_fraction'])}"
                             + (f" / MP {_pct(r['mediapipe_hand_fraction'])}" if "mediapipe_hand_fraction" in r else ""))
            if r.get("not_comparable"):
                extra.append("NOT COMPARABLE: " + r["not_comparable"])
            pf = (f"n/a ({_pf(r['pass_raw'])} raw)" if r.get("not_comparable") else _pf(r["pass"]))
            rows.append([r["size"], r["mode"], _ms(r["sdk_ms"]), _ms(r["mediapipe_ms"]),
                         "-" if r["ratio"] is None else f"{r['ratio']:.2f}x", pf, "; ".join(extra)])
        lat = report.get("latency_setup", {})
        secs.append(("Latency per frame (median ms, same frames, same run)",
                     ["frame", "frames of", "SDK", "MediaPipe", "SDK/MP", f"<= {TARGET_LATENCY_RATIO:g}x", "notes"],
                     rows,
                     [f"detection = IMAGE mode (detector every frame); tracking = VIDEO mode, frames after the "
                      f"first of each clip of {lat.get('clip_len', '?')} (the hand is tracked); "
                      f"{lat.get('images', '?')} real images with one hand, letterboxed to 4:3 and resized; "
                      f"warm-up ({lat.get('warmup', '?')} frames) excluded; {lat.get('repeats', 1)} blocks per system and "
                      f"size in alternating order, pooled; max 1 hand for both; "
                      f"SDK {lat.get('threads', '?')} threads (includes GestureNet), MediaPipe Tasks exposes "
                      f"no thread count (its default); one process each, run one after the other"]
                     + _load_note(report)))
    staged = [r for r in report.get("latency") or [] if r.get("sdk_stage_ms")]
    if staged:
        names = [n for n in ("detect", "landmark", "gesture", "motion")
                 if any(n in r["sdk_stage_ms"] for r in staged)]
        rows = [[r["size"], r["mode"]] + [_ms(r["sdk_stage_ms"].get(n)) for n in names] + [_ms(r["sdk_ms"])]
                for r in staged]
        secs.append(("SDK time per stage (median ms per frame, the latency frames above)",
                     ["frame", "frames of"] + names + ["total"], rows,
                     ["each stage's median over the frames (the total's median is not their sum); detect is "
                      "0 on a tracked frame; motion: the keypoint history and the motion sets (VIDEO mode, "
                      f"bundles with a motion set; target <= {TARGET_MOTION_MS:g} ms per tracking frame)"]))
    rows = [[t["target"], f"{t['passed']}/{t['checked']}"
             + (f" ({t['not_comparable']} not comparable)" if t.get("not_comparable") else ""), _pf(t["pass"])]
            for t in report.get("targets", [])]
    secs.append(("Targets (directions, not asserts)", ["target", "passed", "result"], rows, []))
    return secs


def _load_note(report: dict) -> list[str]:
    la = [v for vals in (report.get("load_avg_latency") or {}).values() for v in vals]
    if not la:
        return []
    cores = (report.get("machine") or {}).get("usable_cores") or 1
    busy = max(la) > 0.5 * cores
    return [f"1-min load average while timing: {min(la):.1f}-{max(la):.1f} on {cores} cores"
            + (" - the machine was BUSY with other work: absolute times are inflated and noisy, the ratio "
               "less so (blocks alternate)" if busy else "")]


def _unmeasured_sets(report: dict) -> list[str]:
    left = sorted(set(report.get("bundle_gesture_sets") or ()) - set((report.get("gesture_sets") or {}).values()))
    if not left:
        return []
    return [f"not measured: the bundle's {', '.join(left)} set(s) - no selected real image set carries those labels "
            "(gesture_keypoints_csv has command keypoints but no images); add a folder of <gesture>/<images> to "
            "--sets to measure them"]


def _header_lines(report: dict) -> list[str]:
    m = report.get("machine", {})
    mp = report.get("mediapipe", {})
    lines = [f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores ({m.get('usable_cores', '?')} usable)"
             + (f", {m['simd']}" if m.get("simd") else "") + f", load avg {m.get('load_avg')}"
             + (f" (at the end: {report['load_avg_end']})" if report.get("load_avg_end") else ""),
             f"bundle: {report.get('bundle', '?')}"]
    if mp.get("available"):
        lines.append(f"MediaPipe {mp.get('version', '?')} Tasks HandLandmarker, model {mp.get('model')}")
    else:
        lines.append(f"MediaPipe: NOT AVAILABLE - {mp.get('message', 'not run')}; only the SDK columns are filled")
    for k, v in (report.get("skipped") or {}).items():
        lines.append(f"skipped {k}: {v}")
    return lines


def _text_table(headers, rows) -> str:
    w = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    fmt = lambda r: "  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)).rstrip()  # noqa: E731
    return "\n".join([fmt(headers), fmt(["-" * x for x in w])] + [fmt(r) for r in rows])


def format_text(report: dict) -> str:
    out = _header_lines(report) + [""]
    for title, headers, rows, notes in report_sections(report):
        out += [title, _text_table(headers, rows)] + [f"  ({n})" for n in notes] + [""]
    if report.get("sanity"):
        out += ["sanity:"] + [f"  {s}" for s in report["sanity"]]
    return "\n".join(out).rstrip() + "\n"


def format_markdown(report: dict) -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    out = ["<!-- made by `handsdk bench` -->"] + [f"{ln}  " for ln in _header_lines(report)] + [""]
    for title, headers, rows, notes in report_sections(report):
        out += [f"**{title}**", "", "| " + " | ".join(map(esc, headers)) + " |",
                "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(esc(x) for x in r) + " |" for r in rows]
        out += [""] + [f"_{n}_" for n in notes] + ([""] if notes else [])
    if report.get("sanity"):
        out += ["Sanity checks:", ""] + [f"* {s}" for s in report["sanity"]] + [""]
    return "\n".join(out)


def to_json(report: dict) -> str:
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        return str(o)

    return json.dumps(report, indent=1, default=default)


def worst_frames_png(samples: dict, keys: dict, sdk: dict, mp: dict | None, path, *, n: int = 12,
                     tile: int = 240) -> Path | None:
    """A PNG grid of the scene frames where the SDK did worst (most false
    hands, then missed human boxes, then worst keypoint agreement), each
    shown twice: SDK (left) and MediaPipe (right), hands drawn, human boxes in
    white, false hands in red."""
    import cv2

    from ..draw import draw_keypoints

    cand = []
    for name, ss in samples.items():
        if not ss or "human_boxes" not in ss[0].extras:
            continue
        for s, k in zip(ss, keys[name]):
            c = scene_frame_counts(s, sdk.get(k, []))
            pk = pseudo_keypoints(s)
            err = 0.0
            if pk is not None and len(pk):
                for j, m in enumerate(match_hands(pk, sdk.get(k, []))):
                    if m is not None:
                        err = max(err, 1.0 - M.pck(np.asarray(m)[None], pk[j][None], 0.2))
            cand.append((c["false"], c["humans"] - c["found"], err, name, s, k))
    if not cand:
        return None
    cand.sort(key=lambda t: (-t[0], -t[1], -t[2]))
    tiles = []
    for nf, miss, err, name, s, k in cand[:n]:
        pair = []
        for hands, label in ((sdk.get(k, []), "SDK"), ((mp or {}).get(k, []), "MediaPipe" if mp is not None else "-")):
            img = cv2.cvtColor(np.ascontiguousarray(s.image), cv2.COLOR_RGB2BGR)
            h, w = img.shape[:2]
            f = tile / max(h, w)
            img = cv2.resize(img, (int(round(w * f)), int(round(h * f))))
            canvas = np.zeros((tile, tile, 3), np.uint8)
            canvas[:img.shape[0], :img.shape[1]] = img
            hb = human_boxes(s)
            for b in (hb if hb is not None else []):
                cv2.rectangle(canvas, (int(b[0] * f), int(b[1] * f)), (int(b[2] * f), int(b[3] * f)), (255, 255, 255), 1)
            for hnd in hands:
                kp = np.asarray(hnd["keypoints"], np.float32)[:, :2] * f
                one = scene_frame_counts(s, [hnd])
                draw_keypoints(canvas, kp, thickness=1, radius=2)
                if one["false"]:
                    b = keypoints_box(kp)
                    cv2.rectangle(canvas, (int(b[0]), int(b[1])), (int(b[2]), int(b[3])), (0, 0, 255), 2)
            cv2.putText(canvas, f"{label} {name}"[:34], (3, tile - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                        (0, 255, 255), 1, cv2.LINE_AA)
            pair.append(canvas)
        tiles.append(np.hstack(pair))
    cols = 2
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    grid = np.vstack([np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), grid):
        raise OSError(f"could not write {path}")
    return path
