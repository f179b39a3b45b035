"""Golden values of cinediff::metrics from scikit-learn, SciPy and statsmodels.

Run with Debian's interpreter (python3-sklearn 1.2, python3-scipy 1.10, python3-statsmodels 0.13):
    /usr/bin/python3 tests/golden/metrics.py
Writes tests/golden/metrics/metrics.safetensors. Every case stores its inputs and the reference
outputs as "<case>.<name>" (labels int64, everything else float64; scalars as shape (1,)) and its
attributes as JSON metadata.
"""
import warnings

import numpy as np
import scipy
import scipy.linalg
import scipy.ndimage
import scipy.spatial.distance as ssd
import scipy.stats
import sklearn
import sklearn.cluster
import sklearn.metrics as skm
import statsmodels
import torch
from statsmodels.stats.contingency_tables import mcnemar

from golden_common import Cases

warnings.simplefilter("ignore")

C = Cases()


def f64(x):
    return torch.tensor(np.asarray(x, dtype=np.float64).reshape(-1) if np.ndim(x) == 0 else np.asarray(x, dtype=np.float64))


def i64(x):
    return torch.tensor(np.asarray(x, dtype=np.int64))


def u8(x):
    return torch.tensor(np.asarray(x, dtype=np.uint8))


rng = np.random.default_rng(20240610)

# ---- classification ---------------------------------------------------------------------------


def binary_case(name, y_true, y_pred, y_score):
    fpr, tpr, thr = skm.roc_curve(y_true, y_score)
    out = dict(y_true=i64(y_true), y_pred=i64(y_pred), y_score=f64(y_score), fpr=f64(fpr), tpr=f64(tpr),
               thresholds=f64(thr), confusion=i64(skm.confusion_matrix(y_true, y_pred)),
               accuracy=f64(skm.accuracy_score(y_true, y_pred)),
               balanced_accuracy=f64(skm.balanced_accuracy_score(y_true, y_pred)))
    if len(np.unique(y_true)) == 2:
        out["auc"] = f64(skm.roc_auc_score(y_true, y_score))
    p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
    out.update(precision=f64(p), recall=f64(r), f1=f64(f))
    mcm = skm.multilabel_confusion_matrix(y_true, y_pred, labels=[1])[0]
    tn, fp = mcm[0, 0], mcm[0, 1]
    out["specificity"] = f64(tn / (tn + fp) if tn + fp else 0.0)
    C.add(name, {"kind": "binary"}, **out)


n = 60
yt = rng.integers(0, 2, n)
score = np.round(np.clip(0.35 * yt + rng.normal(0.4, 0.25, n), 0, 1), 1)  # many ties
yp = (score >= 0.5).astype(np.int64)
binary_case("bin_ties", yt, yp, score)
yt = rng.integers(0, 2, 41)
score = rng.random(41) + 0.3 * yt
binary_case("bin_distinct", yt, (score > 0.6).astype(np.int64), score)
yt = np.array([0, 1, 0, 1, 1, 0, 0, 1])
binary_case("bin_constant", yt, np.zeros(8, dtype=np.int64), np.full(8, 0.3))
yt = np.array([0, 0, 0, 1, 1, 1])
binary_case("bin_perfect", yt, yt, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))


def multiclass_case(name, y_true, y_pred, y_score, k_list=(1, 2, 3)):
    labels = np.arange(y_score.shape[1])
    out = dict(y_true=i64(y_true), y_pred=i64(y_pred), y_score=f64(y_score),
               confusion=i64(skm.confusion_matrix(y_true, y_pred)),
               accuracy=f64(skm.accuracy_score(y_true, y_pred)),
               balanced_accuracy=f64(skm.balanced_accuracy_score(y_true, y_pred)))
    if len(np.unique(y_true)) == y_score.shape[1]:
        out["auc_macro"] = f64(skm.roc_auc_score(y_true, y_score, multi_class="ovr", average="macro"))
        out["auc_weighted"] = f64(skm.roc_auc_score(y_true, y_score, multi_class="ovr", average="weighted"))
    for avg in ["macro", "weighted", "micro"]:
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        out[f"precision_{avg}"], out[f"recall_{avg}"], out[f"f1_{avg}"] = f64(p), f64(r), f64(f)
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    out.update(precision_none=f64(p), recall_none=f64(r), f1_none=f64(f), support_none=i64(s),
               labels_none=i64(skm.unique_labels(y_true, y_pred) if hasattr(skm, "unique_labels") else
                               np.union1d(y_true, y_pred)))
    mcm = skm.multilabel_confusion_matrix(y_true, y_pred)
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    out["specificity_none"] = f64(np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), 0.0))
    for k in k_list:
        out[f"top{k}"] = f64(skm.top_k_accuracy_score(y_true, y_score, k=k, labels=labels))
    C.add(name, {"kind": "multiclass", "k": list(k_list)}, **out)


n = 80
yt = rng.integers(0, 4, n)
logits = rng.normal(0, 1, (n, 4))
logits[np.arange(n), yt] += 1.0
prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
prob = np.round(prob, 2)
prob[:, 3] = 1.0 - prob[:, :3].sum(1)  # rows sum to 1 (up to rounding), ties from rounding
multiclass_case("multi4", yt, prob.argmax(1), prob)
# a class that is never predicted (precision 0/0) and a predicted class absent from y_true
yt = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 1, 0])
yp = np.array([0, 1, 1, 0, 3, 1, 0, 1, 0, 1, 3, 3])
sc = np.full((12, 4), 0.25)
multiclass_case("multi_zero_division", yt, yp, sc, k_list=(1, 2))
# three classes with imbalanced support
yt = np.repeat([0, 1, 2], [20, 7, 3])
logits = rng.normal(0, 1, (30, 3))
logits[np.arange(30), yt] += 0.8
prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
multiclass_case("multi3_imbalanced", yt, prob.argmax(1), prob, k_list=(1, 2))

# ---- statistics ---------------------------------------------------------------------------------

tables = [[[10, 5], [12, 20]], [[50, 1], [9, 30]], [[3, 7], [7, 3]], [[100, 30], [10, 60]],
          [[5, 140], [160, 8]], [[7, 0], [4, 9]]]
for i, t in enumerate(tables):
    t = np.array(t)
    e = mcnemar(t, exact=True)
    a = mcnemar(t, exact=False, correction=True)
    u = mcnemar(t, exact=False, correction=False)
    C.add(f"mcnemar{i}", {"kind": "mcnemar"}, table=i64(t), exact_stat=f64(e.statistic), exact_p=f64(e.pvalue),
          chi2_stat=f64(a.statistic), chi2_p=f64(a.pvalue), chi2_nocorr_stat=f64(u.statistic),
          chi2_nocorr_p=f64(u.pvalue))
# from prediction vectors: rows A correct/wrong x B correct/wrong
yt = rng.integers(0, 3, 70)
pa = np.where(rng.random(70) < 0.8, yt, (yt + 1) % 3)
pb = np.where(rng.random(70) < 0.6, yt, (yt + 2) % 3)
ca, cb = pa == yt, pb == yt
t = np.array([[np.sum(ca & cb), np.sum(ca & ~cb)], [np.sum(~ca & cb), np.sum(~ca & ~cb)]])
C.add("mcnemar_vectors", {"kind": "mcnemar_vectors"}, y_true=i64(yt), pred_a=i64(pa), pred_b=i64(pb), table=i64(t),
      exact_p=f64(mcnemar(t, exact=True).pvalue), chi2_p=f64(mcnemar(t, exact=False).pvalue))


def paired_case(name, a, b):
    t = scipy.stats.ttest_rel(a, b)
    w = scipy.stats.wilcoxon(a, b)
    C.add(name, {"kind": "paired", "n": len(a)}, a=f64(a), b=f64(b), t_stat=f64(t.statistic), t_p=f64(t.pvalue),
          w_stat=f64(w.statistic), w_p=f64(w.pvalue))


a = rng.normal(0.8, 0.05, 20)
paired_case("paired_n20", a, a - rng.normal(0.01, 0.02, 20))
a = rng.normal(0.8, 0.05, 7)
paired_case("paired_n7", a, a - rng.normal(0.0, 0.02, 7))
# integer-valued scores so that ties in |d| and zero differences are exact
a = rng.integers(60, 95, 14).astype(np.float64)
paired_case("paired_ties_exact", a, a - np.array([1, 2, -1, 2, 3, 1, -2, 2, 4, 1, 3, -3, 5, 2.0]))  # SciPy 1.10 stays exact
a = rng.integers(60, 95, 25).astype(np.float64)
diff = rng.integers(-2, 5, 25).astype(np.float64)
diff[[3, 9, 17]] = 0  # zeros -> normal approximation (with ties)
paired_case("paired_zeros_approx", a, a - diff)
a = rng.normal(0.8, 0.05, 50)
paired_case("paired_n50_exact", a, a - rng.normal(0.005, 0.02, 50))
a = rng.integers(60, 95, 64).astype(np.float64)
paired_case("paired_n64_approx", a, a - rng.integers(-3, 6, 64) * 0.25)  # ties and zeros, n > 50
d = np.array([6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75], dtype=np.float64)
paired_case("paired_scipy_doc", d, np.zeros_like(d))
a = np.arange(1.0, 11.0)
paired_case("paired_all_positive", a + 1.5 + 0.1 * np.arange(10), a)  # smallest exact p, t large

# ---- clustering ---------------------------------------------------------------------------------


def kmeans_case(name, x, k):
    km = sklearn.cluster.KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
    C.add(name, {"kind": "kmeans", "k": k}, x=f64(x), centers=f64(km.cluster_centers_), inertia=f64(km.inertia_),
          labels=i64(km.labels_))


centres = np.array([[0, 0], [6, 1], [2, 7]], dtype=np.float64)
x = np.concatenate([c + rng.normal(0, 0.6, (30, 2)) for c in centres])
kmeans_case("kmeans_blobs2d", x, 3)
centres = rng.normal(0, 8, (4, 5))
x = np.concatenate([c + rng.normal(0, 0.7, (n_, 5)) for c, n_ in zip(centres, [20, 35, 15, 30])])
kmeans_case("kmeans_blobs5d", x, 4)
v = np.concatenate([rng.normal(m, s, n_) for m, s, n_ in [(55, 1.5, 20), (72, 1.5, 40), (85, 1.0, 50), (96, 0.7, 25)]])
kmeans_case("kmeans_vaeseq1d", np.round(v, 2)[:, None], 4)

# ---- generation quality -------------------------------------------------------------------------


def fid_scipy(x, y):
    """pytorch-fid's calculate_frechet_distance with np.cov statistics."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def fid_exact(x, y):
    """Reference without sqrtm: eigenvalues of C1^1/2 C2 C1^1/2 in long double-free float64."""
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r @ s2 @ r
    ev = np.linalg.eigvalsh((m + m.T) / 2)
    ev = np.where(ev > len(ev) * np.finfo(np.float64).eps * np.abs(ev).max(), ev, 0.0)  # rounding noise -> 0
    d = x.mean(0) - y.mean(0)
    return d @ d + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(ev).sum()


x = rng.normal(0, 1, (40, 6)) @ rng.normal(0, 1, (6, 6))
y = rng.normal(0.3, 1.2, (50, 6)) @ rng.normal(0, 1, (6, 6))
C.add("frechet_full", {"kind": "frechet"}, x=f64(x), y=f64(y), fid_sqrtm=f64(fid_scipy(x, y)), fid_eigh=f64(fid_exact(x, y)))
x = rng.normal(0, 1, (5, 8))
y = rng.normal(0.2, 1, (6, 8))
C.add("frechet_singular", {"kind": "frechet"}, x=f64(x), y=f64(y), fid_sqrtm=f64(fid_scipy(x, y)), fid_eigh=f64(fid_exact(x, y)))
x = rng.normal(0, 1, (30, 4))
C.add("frechet_same", {"kind": "frechet"}, x=f64(x), y=f64(x.copy()), fid_sqrtm=f64(fid_scipy(x, x)), fid_eigh=f64(fid_exact(x, x)))


def kid_numpy(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3
    m, n = len(x), len(y)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.sum() / (m * n))


x = rng.normal(0, 1, (30, 5))
y = rng.normal(0.4, 1.1, (25, 5))
C.add("kid", {"kind": "kid"}, x=f64(x), y=f64(y), mmd2=f64(kid_numpy(x, y)))

frames = rng.normal(0, 1, (8, 3, 4, 2))
frames[1] += frames[0]
fl = torch.tensor(frames.reshape(8, -1))
fc = torch.nn.functional.cosine_similarity(fl[:-1], fl[1:], dim=1).mean().item()
C.add("frame_consistency", {"kind": "frame_consistency"}, frames=f64(frames), value=f64(fc))

video = rng.integers(0, 256, (7, 5, 6)).astype(np.float64)
odd = [i for i in range(1, 7, 2) if i + 1 < 7]
mae = np.mean([np.mean(np.abs((video[i - 1] + video[i + 1]) / 2 - video[i])) for i in odd])
video8 = rng.integers(0, 256, (8, 4, 4)).astype(np.float64)
odd8 = [i for i in range(1, 8, 2) if i + 1 < 8]
mae8 = np.mean([np.mean(np.abs((video8[i - 1] + video8[i + 1]) / 2 - video8[i])) for i in odd8])
C.add("dynamic_smoothness", {"kind": "dynamic_smoothness"}, video=f64(video), mae=f64(mae),
      score=f64((255 - mae) / 255), video8=f64(video8), mae8=f64(mae8))

g = rng.normal(0, 1, (12, 7))
t = rng.normal(0, 1, (9, 7))
t[0] = g[3] * 2.0  # a near copy
sim = 1 - ssd.cdist(g, t, "cosine")
C.add("diversity", {"kind": "diversity"}, generated=f64(g), training=f64(t), ds_euclidean=f64(ssd.pdist(g).mean()),
      ds_cosine=f64(ssd.pdist(g, "cosine").mean()), overfitting=f64(sim.max(1).mean()))

# ---- segmentation -------------------------------------------------------------------------------


def surface(m):
    return m & ~scipy.ndimage.binary_erosion(m, border_value=0)


def points(m, spacing):
    return np.argwhere(m).astype(np.float64) * np.asarray(spacing)


def seg_case(name, pred, ref, spacing):
    pred, ref = pred.astype(bool), ref.astype(bool)
    tp, fp, fn = np.sum(pred & ref), np.sum(pred & ~ref), np.sum(~pred & ref)
    sp, sg = points(surface(pred), spacing), points(surface(ref), spacing)
    hd = max(ssd.directed_hausdorff(sp, sg)[0], ssd.directed_hausdorff(sg, sp)[0])
    dpg = ssd.cdist(sp, sg).min(1)
    dgp = ssd.cdist(sg, sp).min(1)
    fp_, fg_ = points(pred, spacing), points(ref, spacing)
    dist_fg = ssd.cdist(fg_, fp_)
    out = dict(pred=u8(pred), ref=u8(ref), spacing=f64(spacing), dice=f64(2 * tp / (2 * tp + fp + fn)),
               iou=f64(tp / (tp + fp + fn)), sensitivity=f64(tp / (tp + fn)), precision=f64(tp / (tp + fp)), hd=f64(hd),
               hd95=f64(max(np.percentile(dpg, 95), np.percentile(dgp, 95))),
               hd90=f64(max(np.percentile(dpg, 90), np.percentile(dgp, 90))), asd=f64(dpg.mean()),
               assd=f64((dpg.sum() + dgp.sum()) / (len(dpg) + len(dgp))), g2re=f64(dist_fg.min(1).mean()),
               r2ge=f64(dist_fg.min(0).mean()), g2re_surface=f64(dgp.mean()), r2ge_surface=f64(dpg.mean()))
    C.add(name, {"kind": "segmentation", "rank": pred.ndim}, **out)


yy, xx = np.mgrid[0:24, 0:20]
ref = ((yy - 11) ** 2 / 36 + (xx - 9) ** 2 / 25) <= 1
pred = ((yy - 12) ** 2 / 30 + (xx - 10) ** 2 / 30) <= 1
pred[2, 17] = True  # isolated false positive far away
seg_case("seg2d", pred, ref, [1.0, 1.0])
seg_case("seg2d_spacing", pred, ref, [0.7, 1.3])
wire_ref = np.zeros((32, 32), bool)
wire_ref[np.arange(4, 28), (0.3 * np.arange(4, 28) ** 1.3).astype(int) % 32] = True
wire_pred = np.roll(wire_ref, 1, axis=1)
wire_pred[20:, :] = False
wire_pred[30, 3] = True
seg_case("seg2d_wire", wire_pred, wire_ref, [1.0, 1.0])
zz, yy, xx = np.mgrid[0:8, 0:10, 0:12]
ref = ((zz - 4) ** 2 / 9 + (yy - 5) ** 2 / 12 + (xx - 6) ** 2 / 16) <= 1
pred = ((zz - 3.5) ** 2 / 9 + (yy - 5) ** 2 / 9 + (xx - 6.5) ** 2 / 20) <= 1
pred[0, 0, 11] = True
seg_case("seg3d", pred, ref, [2.5, 0.8, 0.8])
pred = rng.random((9, 11)) < 0.35
ref = rng.random((9, 11)) < 0.35
seg_case("seg2d_random", pred, ref, [1.0, 2.0])

C.write("metrics/metrics.safetensors")
print("sklearn", sklearn.__version__, "scipy", scipy.__version__, "statsmodels", statsmodels.__version__,
      "numpy", np.__version__)
