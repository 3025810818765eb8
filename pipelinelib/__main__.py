from __future__ import annotations

from pipelinelib.cli import main

if __name__ == "__main__":
    main()
