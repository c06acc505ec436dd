import numpy as np
import pytest


def test_the_confusion_png_is_written_and_a_wrong_matrix_is_refused(tmp_path):
    import cv2

    from handsdk.train.plots import plot_confusion

    cm = np.array([[5, 1, 0], [0, 3, 2], [1, 0, 4]])
    png = tmp_path / "sub" / "confusion.png"  # the folder is made
    plot_confusion(cm, ["a", "b", "c"], png, title="three classes")
    img = cv2.imread(str(png))
    assert img is not None and img.shape[0] > 100 and img.shape[1] > 100
    # the cells are coloured by row share: the image is not blank
    assert img.std() > 10
    with pytest.raises(ValueError, match="3 classes must be 3x3"):
        plot_confusion(np.ones((2, 2)), ["a", "b", "c"], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
