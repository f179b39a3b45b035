"""Golden cases of the metric ops of cinediff-ops (tools/ops/ops_metrics.cpp) from scikit-learn,
SciPy and statsmodels, in the op-case layout of tests/unit/tools/cinediff_ops_golden_test.cpp:
metadata "<case>" = {"op": ..., attributes...}; tensors "<case>.<input>" and "<case>.<output>_out"
(or "<case>.output" for an op's single output `out`). Scalars are 0-d float64.

    /usr/bin/python3 tests/golden/metrics_ops.py   ->  tests/golden/metrics/ops.safetensors
"""
import warnings

import numpy as np
import scipy.linalg
import scipy.ndimage
import scipy.spatial.distance as ssd
import scipy.stats
import sklearn.cluster
import sklearn.metrics as skm
import torch
from statsmodels.stats.contingency_tables import mcnemar

from golden_common import Cases

warnings.simplefilter("ignore")
C = Cases()
rng = np.random.default_rng(77)


def f64(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def i64(x):
    return torch.tensor(np.asarray(x, dtype=np.int64))


# ---- classification ---------------------------------------------------------------------------
y_true = rng.integers(0, 3, 40)
y_pred = np.where(rng.random(40) < 0.7, y_true, rng.integers(0, 3, 40))
scores = rng.dirichlet([1, 1, 1], 40)
scores[np.arange(40), y_true] += 0.5
scores /= scores.sum(1, keepdims=True)
pair = dict(y_true=i64(y_true), y_pred=i64(y_pred))
C.add("confusion", {"op": "confusion_matrix"}, **pair, output=i64(skm.confusion_matrix(y_true, y_pred)))
C.add("confusion_labels", {"op": "confusion_matrix", "labels": [2, 0]}, **pair,
      output=i64(skm.confusion_matrix(y_true, y_pred, labels=[2, 0])))
C.add("accuracy", {"op": "accuracy_score"}, **pair, output=f64(skm.accuracy_score(y_true, y_pred)))
C.add("balanced_accuracy", {"op": "balanced_accuracy_score"}, **pair,
      output=f64(skm.balanced_accuracy_score(y_true, y_pred)))
C.add("f1_macro", {"op": "f1_score", "average": "macro"}, **pair,
      output=f64(skm.f1_score(y_true, y_pred, average="macro")))
C.add("f1_per_class", {"op": "f1_score", "average": "none"}, **pair,
      output=f64(skm.f1_score(y_true, y_pred, average=None)))
C.add("precision_weighted", {"op": "precision_score", "average": "weighted"}, **pair,
      output=f64(skm.precision_score(y_true, y_pred, average="weighted")))
yb, pb = (y_true > 0).astype(np.int64), (y_pred > 0).astype(np.int64)
C.add("recall_binary", {"op": "recall_score"}, y_true=i64(yb), y_pred=i64(pb), output=f64(skm.recall_score(yb, pb)))
p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, average=None, beta=2.0)
C.add("prfs", {"op": "precision_recall_fscore_support", "beta": 2.0}, **pair, precision_out=f64(p),
      recall_out=f64(r), fscore_out=f64(f), support_out=i64(s))
C.add("top2", {"op": "top_k_accuracy_score", "k": 2}, y_true=i64(y_true), y_score=f64(scores),
      output=f64(skm.top_k_accuracy_score(y_true, scores, k=2, labels=[0, 1, 2])))
bin_score = np.round(scores[:, 1] + scores[:, 2], 2)  # ties
fpr, tpr, thr = skm.roc_curve(yb, bin_score)
C.add("roc_curve", {"op": "roc_curve"}, y_true=i64(yb), y_score=f64(bin_score), fpr_out=f64(fpr), tpr_out=f64(tpr),
      thresholds_out=f64(thr))
C.add("auroc_binary", {"op": "roc_auc_score"}, y_true=i64(yb), y_score=f64(bin_score),
      output=f64(skm.roc_auc_score(yb, bin_score)))
for avg in ("macro", "weighted"):
    C.add(f"auroc_ovr_{avg}", {"op": "roc_auc_score", "average": avg}, y_true=i64(y_true), y_score=f64(scores),
          output=f64(skm.roc_auc_score(y_true, scores, multi_class="ovr", average=avg)))

# ---- significance -------------------------------------------------------------------------------
pred_a = np.where(rng.random(60) < 0.8, 1, 0)
truth = np.ones(60, dtype=np.int64)
pred_b = np.where(rng.random(60) < 0.6, 1, 0)
table = np.array([[np.sum((pred_a == truth) & (pred_b == truth)), np.sum((pred_a == truth) & (pred_b != truth))],
                  [np.sum((pred_a != truth) & (pred_b == truth)), np.sum((pred_a != truth) & (pred_b != truth))]])
for exact in (True, False):
    m = mcnemar(table, exact=exact, correction=True)
    C.add(f"mcnemar_{'exact' if exact else 'chi2'}", {"op": "mcnemar", "exact": exact}, y_true=i64(truth),
          pred_a=i64(pred_a), pred_b=i64(pred_b), statistic_out=f64(m.statistic), pvalue_out=f64(m.pvalue))
m = mcnemar(table, exact=False, correction=False)
C.add("mcnemar_table", {"op": "mcnemar", "exact": False, "correction": False}, table=i64(table),
      statistic_out=f64(m.statistic), pvalue_out=f64(m.pvalue))
a = rng.normal(0.8, 0.05, 20)
b = a - rng.normal(0.01, 0.02, 20)
t = scipy.stats.ttest_rel(a, b)
C.add("paired_t", {"op": "paired_t_test"}, a=f64(a), b=f64(b), statistic_out=f64(t.statistic),
      pvalue_out=f64(t.pvalue), df_out=f64(len(a) - 1))
for mode in ("exact", "approx"):
    w = scipy.stats.wilcoxon(a, b, mode=mode)
    C.add(f"wilcoxon_{mode}", {"op": "wilcoxon", "method": mode}, x=f64(a), y=f64(b), statistic_out=f64(w.statistic),
          pvalue_out=f64(w.pvalue))

# ---- clustering and generation scores -----------------------------------------------------------
centres = np.array([[0, 0], [8, 1], [2, 9]], dtype=np.float64)
x = np.concatenate([c + rng.normal(0, 0.5, (20, 2)) for c in centres])
km = sklearn.cluster.KMeans(n_clusters=3, n_init=10, random_state=0).fit(x)
C.add("kmeans", {"op": "kmeans", "n_clusters": 3}, input=f64(x), inertia_out=f64(km.inertia_))  # labels: any permutation
x = rng.normal(0, 1, (40, 4))
y = rng.normal(0.3, 1.2, (50, 4))
mu1, mu2, s1, s2 = x.mean(0), y.mean(0), np.cov(x, rowvar=False), np.cov(y, rowvar=False)
covmean = scipy.linalg.sqrtm(s1 @ s2).real
C.add("frechet", {"op": "frechet_distance"}, x=f64(x), y=f64(y),
      output=f64(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)))
g = rng.normal(0, 1, (12, 6))
C.add("diversity", {"op": "diversity_score"}, input=f64(g), output=f64(ssd.pdist(g).mean()))
C.add("diversity_cosine", {"op": "diversity_score", "distance": "cosine"}, input=f64(g),
      output=f64(ssd.pdist(g, "cosine").mean()))
lat = rng.normal(0, 1, (8, 4, 6, 6)) + 2.0 * rng.normal(0, 1, (1, 4, 6, 6))
flat = lat.reshape(8, -1)
cos = [flat[i] @ flat[i + 1] / np.linalg.norm(flat[i]) / np.linalg.norm(flat[i + 1]) for i in range(7)]
C.add("vae_seq", {"op": "vae_seq"}, input=f64(lat), output=f64(100 * np.mean(cos)))
frames = rng.uniform(0, 255, (6, 10, 12))
mae = np.mean([np.abs((frames[i - 1] + frames[i + 1]) / 2 - frames[i]).mean() for i in (1, 3)])  # odd frames with two neighbours
C.add("dynamic_smoothness", {"op": "dynamic_smoothness"}, input=f64(frames), score_out=f64((255 - mae) / 255),
      mae_out=f64(mae))

# ---- segmentation -------------------------------------------------------------------------------
yy, xx = np.mgrid[0:24, 0:20]
ref = ((yy - 11) ** 2 / 36 + (xx - 9) ** 2 / 25) <= 1
pred = ((yy - 12) ** 2 / 30 + (xx - 10) ** 2 / 30) <= 1
tp, fp, fn = np.sum(pred & ref), np.sum(pred & ~ref), np.sum(~pred & ref)
masks = dict(prediction=i64(pred), reference=i64(ref))
C.add("dice", {"op": "dice"}, **masks, output=f64(2 * tp / (2 * tp + fp + fn)))
C.add("iou", {"op": "iou"}, **masks, output=f64(tp / (tp + fp + fn)))
spacing = np.array([0.7, 1.3])


def surface_points(m):
    s = m & ~scipy.ndimage.binary_erosion(m, border_value=0)
    return np.argwhere(s).astype(np.float64) * spacing


sp, sg = surface_points(pred), surface_points(ref)
dpg, dgp = ssd.cdist(sp, sg).min(1), ssd.cdist(sg, sp).min(1)
C.add("hausdorff", {"op": "hausdorff_distance", "spacing": spacing.tolist()}, **masks,
      output=f64(max(dpg.max(), dgp.max())))
C.add("hausdorff95", {"op": "hausdorff_distance", "spacing": spacing.tolist(), "percentile": 95.0}, **masks,
      output=f64(max(np.percentile(dpg, 95), np.percentile(dgp, 95))))
C.add("assd", {"op": "average_symmetric_surface_distance", "spacing": spacing.tolist()}, **masks,
      output=f64((dpg.sum() + dgp.sum()) / (len(dpg) + len(dgp))))

C.write("metrics/ops.safetensors")
