"""`nn-tui` with no command: build the app from the command-line flags and run it."""
from __future__ import annotations

from pathlib import Path

from .options import config_from_args


def run_app(args) -> int:
    import data
    import models

    from ..app import make_app

    cfg = config_from_args(args)
    if cfg.data not in data.SOURCES and not Path(cfg.data).expanduser().exists():
        raise data.DataError(f"{cfg.data}: no such file or directory "
                             f"(and not a source name: {', '.join(data.SOURCES)})")
    model_path = Path(args.model) if args.model else None
    if model_path is not None:
        model, _ = models.load(model_path)  # refuse a bad file before the screen opens
        if model.spec.inputs != data.PIXELS:
            raise models.SpecError(f"{model_path}: the {model.spec} network takes {model.spec.inputs} inputs, "
                                   f"digits have {data.PIXELS} pixels")
    app = make_app(cfg, runs_root=Path(args.out) if args.out else None, model_path=model_path)
    app.run()
    return app.return_code or 0
