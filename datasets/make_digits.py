"""Extract the handwritten-digits dataset bundled with scikit-learn into datasets/digits.npz.

Run once from the project root with scikit-learn installed (it is not a dependency of axsim):

    python datasets/make_digits.py

Source: UCI Optical Recognition of Handwritten Digits (test part, 1,797 8x8 images, pixels
0..16), as bundled with scikit-learn (``sklearn.datasets.load_digits``); license CC BY 4.0.
Fixed split: ``numpy.random.default_rng(20261130).permutation(1797)``, first 360 = test
(arrays ``x``, ``y``), the rest = training (``x_train``, ``y_train``); the indices are stored.
"""
import numpy as np, sklearn
from sklearn.datasets import load_digits
d = load_digits()
x = d.images.astype(np.uint8)  # 0..16
y = d.target.astype(np.uint8)
assert x.shape == (1797, 8, 8) and x.max() == 16
rng = np.random.default_rng(20261130)
perm = rng.permutation(len(y))
test = np.sort(perm[:360]); train = np.sort(perm[360:])
np.savez_compressed("datasets/digits.npz",
    x_train=x[train], y_train=y[train], x=x[test], y=y[test],
    train_index=train.astype(np.int16), test_index=test.astype(np.int16),
    source=np.array("UCI Optical Recognition of Handwritten Digits (test part), as bundled with scikit-learn %s "
                    "(sklearn.datasets.load_digits); license CC BY 4.0; split: numpy default_rng(20261130) "
                    "permutation, first 360 = test" % sklearn.__version__))
print(len(train), len(test), np.bincount(y[test]))
