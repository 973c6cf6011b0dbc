"""Stand-ins for W&B's media, tables, plots and artifacts: constructed with any arguments and
skipped when logged (Harrow records numbers), with one warning per process."""

from . import _output


class _Skipped(object):
    """Accepts W&B's constructor arguments and methods; holds nothing."""

    _kind = "media"

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        # Table.add_data, Artifact.add_file, ...: accepted and ignored.
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def _kind(name):
    return type(name, (_Skipped,), {"_kind": name})


Image = _kind("Image")
Audio = _kind("Audio")
Video = _kind("Video")
Html = _kind("Html")
Object3D = _kind("Object3D")
Molecule = _kind("Molecule")
Plotly = _kind("Plotly")
Graph = _kind("Graph")
Histogram = _kind("Histogram")
Table = _kind("Table")
Artifact = _kind("Artifact")
Classes = _kind("Classes")
box3d = _kind("box3d")


def is_media(value):
    return isinstance(value, _Skipped)


def note_skipped():
    _output.warn_once(
        "media",
        "Harrow records numbers only: images, tables, histograms, plots and other media passed to "
        "wandb.log are skipped (this warning is shown once)",
    )


class _Plot(object):
    """``wandb.plot.line(...)``, ``wandb.plot.confusion_matrix(...)``, ...: a skipped chart."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: Plotly()


plot = _Plot()
