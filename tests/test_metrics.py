"""handsdk.train.metrics (numpy only)."""
import numpy as np
import pytest

from handsdk.boxes import box_iou
from handsdk.train import metrics as M


def test_box_iou():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    iou = box_iou(a, b)
    assert iou.shape == (1, 3)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


def test_detection_metrics_perfect_and_mixed():
    gts = [np.array([[0, 0, 10, 10]]), np.array([[5, 5, 20, 20]]), np.zeros((0, 4))]
    preds = [(g, np.ones(len(g))) for g in gts]
    r = M.detection_metrics(preds, gts)
    assert r["precision"] == r["recall"] == r["f1"] == r["ap"] == 1.0
    assert r["mean_iou"] == 1.0
    # one miss, one false positive with a low score, one hit
    preds = [(np.array([[0, 0, 10, 10]]), [0.9]), (np.zeros((0, 4)), []),
             (np.array([[50, 50, 60, 60]]), [0.1])]
    r = M.detection_metrics(preds, gts)
    assert r["precision"] == 0.5 and r["recall"] == 0.5
    assert r["ap"] == pytest.approx(0.5)
    assert r["mean_iou"] == pytest.approx(0.5)


def test_average_precision_ordering():
    # a false positive ranked first halves precision at the first recall point
    assert M.average_precision([0.9, 0.8], [False, True], 1) == pytest.approx(0.5)
    assert M.average_precision([0.9, 0.8], [True, False], 1) == pytest.approx(1.0)
    assert M.average_precision([], [], 3) == 0.0


def test_roc_auc_and_binary():
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert M.roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert M.roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert np.isnan(M.roc_auc([1, 1], [0.1, 0.2]))
    r = M.binary_metrics([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1])
    assert r["accuracy"] == 0.5 and r["precision"] == 0.5 and r["recall"] == 0.5 and r["auc"] == 0.75
    fpr, tpr, _ = M.roc_curve([0, 1], [0.2, 0.8])
    assert fpr[0] == 0 and tpr[-1] == 1


def test_pck_and_errors():
    gt = np.zeros((1, 21, 3), np.float32)
    gt[0, :, 0] = np.linspace(0, 100, 21)
    gt[0, :, 1] = np.linspace(0, 50, 21)
    gt[0, :, 2] = 1
    pred = gt[..., :2].copy()
    pred[0, :10, 0] += 15  # 0.15 of the box size (100)
    assert M.pck(pred, gt, 0.2) == 1.0
    assert M.pck(pred, gt, 0.1) == pytest.approx(11 / 21)
    assert M.mean_keypoint_error(pred, gt) == pytest.approx(15 * 10 / 21)
    gt[0, 0, 2] = -1  # absent keypoints do not count
    assert M.pck(pred, gt, 0.1) == pytest.approx(11 / 20)
    thr, vals, auc = M.pck_curve(pred, gt)
    assert vals[0] <= vals[-1] == 1.0 and 0 < auc < 1
    assert M.keypoint_metrics(pred, gt)["pck@0.2"] == 1.0


def test_classification_metrics():
    r = M.classification_metrics([0, 0, 1, 2], [0, 1, 1, 2], 3, labels=["a", "b", "c"])
    assert r["accuracy"] == 0.75
    assert r["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert r["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
