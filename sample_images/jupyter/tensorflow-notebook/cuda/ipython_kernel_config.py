# Stand-in for the tensorflow-notebook ipython startup hook
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
