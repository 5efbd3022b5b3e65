"""Per-modality viewers of the patient page (layout only; data from clinfusion.review)."""

from __future__ import annotations

import images
import patient_panels
import streamlit as st
import ui
import viewers
from clinfusion.review import ct_volume, dzi, ecg_paper, plots, workspace_data
from clinfusion.workspace import Workspace

ECG_DPI = 96.0  # CSS px per inch: the ECG is true size at browser zoom 100% on a 96 dpi CSS pixel


def radiology(ws: Workspace, pid: str) -> None:
    """CT / MR viewer: every stored series selectable, the volume sent inline to the canvas viewer."""
    series = workspace_data.radiology_series(ws, pid)
    if not series:
        st.info("no radiology for this patient")
        return
    choice = st.selectbox("series", range(len(series)), format_func=lambda i: series[i].label, key="rad_series")
    s = series[choice]
    is_ct = s.record.get("modality") == "CT"
    args = viewers.ct_payload(str(s.path), is_ct, s.label, ct_volume.MAX_VOXELS)
    preset = "lung" if is_ct else "auto"
    viewers.ct_viewer(args, preset, key=f"ct_{pid}_{choice}")
    lv, w = args["presets"][preset]
    reduced = "" if args["factors"] == [1, 1, 1] else (
        f"; shown downsampled by {'x'.join(map(str, args['factors']))} (block mean, HU kept) from "
        f"{'x'.join(map(str, args['source_shape']))}")
    st.caption(f"{s.label}: opens in the {preset} window (L {lv:g}, W {w:g}); {'x'.join(map(str, args['shape']))} voxels "
               f"of {' x '.join(f'{v:.2f}' for v in args['spacing'])} mm{reduced}. Wheel: slice; drag: window/level; "
               "buttons: plane and presets; the cursor reads the value. Radiological view (patient right on the left); "
               f"overlay: {args['overlay_name'] or 'none'}.")


def pathology(ws: Workspace, pid: str) -> None:
    """Slide viewer: thumbnail and tissue overlay, then deep zoom with the attention heatmap."""
    slides = workspace_data.pathology_slides(ws, pid)
    if not slides:
        st.info("no pathology slide for this patient")
        return
    preds, _ = ui.predictions(str(ws.root))
    for s in slides:
        m = s["meta"]
        st.caption(f"slide {s['item']}: {m.get('vendor', '')} {m.get('width')}x{m.get('height')} px at "
                   f"{m.get('mpp_x')} um/px; {len(s['tiles'])} tissue tiles kept; tissue {m.get('tissue_fraction')}")
        a, b = st.columns(2)
        images.show(s["thumbnail"], caption="thumbnail", container=a)
        images.show(s["overlay"], caption="tissue overlay", container=b)
        args = viewers.slide_payload(str(s["dir"]), dzi.BUDGET_BYTES)
        layers, why = _slide_layers(ws, preds, pid, s)
        viewers.slide_viewer(args, layers, key=f"slide_{pid}_{s['item']}")
        finest = ("all levels embedded" if args["finest_level"] == args["full_level"] else
                  f"levels 0-{args['finest_level']} of {args['full_level']} embedded (byte budget)")
        st.caption(f"deep zoom: {args['full_width']}x{args['full_height']} px pyramid from the stored tiles; {finest}, "
                   f"{args['bytes'] / 2**20:.1f} MiB in this page. Drag: pan; wheel: zoom; click a tile: its score. {why}")


def _slide_layers(ws: Workspace, preds, pid: str, s: dict) -> tuple[list, str]:
    """The slide's heat layers (attention of the served model) and a sentence on what is shown."""
    if preds is None:
        return [], "heatmap: no served model for this workspace."
    from clinfusion.review import attention

    weights = attention.read_patient_attention(preds.artifact_dir / attention.ATTENTION_FILE, pid)
    if weights is None:
        return [], "heatmap: the served run logged no token_attention.parquet; run `clinfusion train` again."
    tokens = None
    if (weights["modality"] == "pathology").any():
        from clinfusion.modalities.pathology.heatmap import prototype_tokens

        tokens = prototype_tokens(ws.root, pid, int((weights["modality"] == "pathology").sum()))
    scores = dzi.attention_scores(s["dir"], weights, s["item"], tokens)
    if scores is None:
        return [], "heatmap: the model has no tile weights for this slide."
    layers = [dzi.heat_layer(s["dir"], scores, "attention weight")]
    path = preds.artifact_dir / attention.ATTRIBUTION_FILE
    ig = attention.read_patient_attention(path, pid)
    ig_scores = dzi.attention_scores(s["dir"], attention.attribution_as_weights(weights, ig), s["item"], tokens)
    if ig_scores is not None:
        layers.append(dzi.heat_layer(s["dir"], ig_scores, "attribution (integrated gradients)"))
        what = ("the 'heatmap' box switches to the attribution: integrated gradients of the risk per tile "
                "(> 0 raises it).")
    else:
        what = f"attribution: the served run logged no pathology rows in {attention.ATTRIBUTION_FILE}."
    return layers, ("heatmap: the final model's attention-pooling weight per tile (inferno, lowest to highest on this "
                    f"slide); {what}")


def ecg(ws: Workspace, pid: str) -> None:
    """ECG at true scale (speed, gain selectable), the interval table next to it, quality flags on the leads."""
    recs = workspace_data.ecg_records(ws, pid)
    if not recs:
        st.info("no ECG for this patient")
        return
    for r in recs:
        n = int(r["meta"].get("n_windows", 1))
        c1, c2, c3 = st.columns(3)
        w = c1.number_input("10 s window", 1, max(n, 1), 1, key=f"ecg_w_{r['item']}") - 1 if n > 1 else 0
        speed = c2.selectbox("speed (mm/s)", ecg_paper.SPEEDS_MM_PER_S, key=f"ecg_speed_{r['item']}")
        gain = c3.selectbox("gain (mm/mV)", ecg_paper.GAINS_MM_PER_MV, index=1, key=f"ecg_gain_{r['item']}")
        quality = r["meta"].get("quality", {})
        flags = tuple(sorted((lead, tuple(f)) for lead, f in quality.items() if f))
        png, scale = viewers.ecg_png(str(r["dir"]), int(w), float(speed), float(gain), ECG_DPI, flags)
        left, right = st.columns([4, 1])
        left.markdown(viewers.true_scale_html(png, f"12-lead ECG, {scale}"), unsafe_allow_html=True)
        right.dataframe(plots.ecg_intervals(r["meta"]))
        if flags:
            right.warning("quality flags (boxed in red on the leads): " + "; ".join(f"{k}: {', '.join(v)}" for k, v in flags))


def genomics(ws: Workspace, pid: str) -> None:
    """Genomics tab (``patient_panels.genomics``)."""
    patient_panels.genomics(ws, pid)


def reports(ws: Workspace, pid: str) -> None:
    """Reports tab (``patient_panels.reports``)."""
    patient_panels.reports(ws, pid)


def prediction(ws: Workspace, pid: str):
    """Prediction panel (``patient_panels.prediction``); returns the Predictions (or None) for the review form."""
    return patient_panels.prediction(ws, pid)


def review_form(ws: Workspace, pid: str, preds) -> None:
    """Review form (``patient_panels.review_form``)."""
    patient_panels.review_form(ws, pid, preds)
