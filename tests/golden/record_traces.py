"""Record golden whole-model traces (``POST /api/trace``) from real PyTorch and Keras.

Run from the repository root, in an environment that has the frameworks:

    pip install torch==2.13.0 keras
    KERAS_BACKEND=torch python tests/golden/record_traces.py

It writes ``traces.json`` next to this file:
``{"meta": {"torch", "keras", "backend", "generated_by"}, "models": [...]}``. CI only reads
``traces.json``; it never needs torch or keras. Rerun this script only to refresh it (for example
for a new framework version) and commit the result. Two runs write byte-identical files.

Each model is a code snippet written the way people paste models into forums, the exact text in
``code``. This recorder -- our own trusted tool, never the app -- executes the snippet, builds the
model and runs it (PyTorch: a forward pass on zeros; Keras: a symbolic build) and records what
torchinfo / Keras' ``model.summary()`` would report:

- ``input_shape``: the trace's input, batch first, in the framework's layout. Keras: always a
  ``null`` batch; ``input_from_code`` says whether the code gives the input itself (``Input``,
  ``InputLayer``, ``input_shape=``) or the request has to (the recorder then calls
  ``model.build(input_shape)``). PyTorch: a concrete batch, never from the code; ``input_dtype``
  is ``"int64"`` where the model starts with an ``Embedding`` (float32 otherwise).
- ``variables``: names the snippet uses without defining them (``depth_1``), defined by the
  recorder before executing; the app reports them as unresolved unless the request supplies them.
- ``layers``: Keras -- every layer of ``model.layers`` in order, InputLayer excluded: ``name``,
  ``type`` (class name), ``output_shape`` (``layer.output.shape``, ``null`` batch), ``params``
  (``layer.count_params()``: BatchNormalization's moving mean/variance included; a
  TimeDistributed row is the wrapper, with its inner layer's params). PyTorch -- one row per call
  of a torch.nn leaf module (no children; RNNs included; a pasted module without children, TCN's
  ``Chomp1d``, is code the app follows, not a row here), in forward order: ``name`` (attribute path:
  ``conv1``, ``features.0``, ``0``), ``type``, ``output_shape`` (RNNs: the ``output`` tensor, the
  first element of the returned tuple), ``params`` (parameters the module owns itself). Functional
  calls inside ``forward`` (``F.relu``, ``F.max_pool2d``, ``torch.flatten``, ``x.view``) are not
  modules and get no row; a module called twice (LeNet's ``self.pool``) gets two rows.
- Optional fields of an entry: ``not_asked`` (variables the recorder needs to run the file but the app
  must not ask for: no shape depends on them), ``old_code`` (the same model in Keras 1/2's words),
  ``build`` (the expression the recorder evaluates to build the model, for a file that only defines
  factories) and ``default`` (the app builds that one when the request names none).
- ``total_params``: ``model.count_params()`` / the sum over ``model.parameters()``.
- Models whose shapes do not fit carry ``"error": {"index", "name", "type",
  "framework_message"}``: ``index`` is the 0-based row index of the failing layer, ``layers``
  holds the rows before it, and ``framework_message`` is the framework's exception text (ANSI
  colours and Keras' "Arguments received" appendix removed, at most 300 characters).

Snippets that import from ``tensorflow`` / ``tf.keras`` run on Keras 3 itself: the recorder maps
``tensorflow.keras`` to ``keras`` for the snippet's imports only (the code is recorded as written).
The model traced is the variable ``model`` or ``net`` if there is one, else the last Keras model /
``nn.Module`` the snippet assigned, else an instance (no arguments) of the last ``nn.Module``
class it defined.

To compare Keras backends (the numbers should not differ), run under TensorFlow and write
elsewhere: ``KERAS_BACKEND=tensorflow python tests/golden/record_traces.py --out /tmp/tf.json``.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import importlib
import io
import json
import os
import re
import sys
import textwrap
import time
import types
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import torch

HERE = Path(__file__).resolve().parent
OUT = HERE / "traces.json"
SNIPPET_MODULE = "__convscope_snippet__"

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def code(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


# --------------------------------------------------------------------------- the snippets
#
# Each: id, framework, code; input_shape (PyTorch always; Keras only where the code gives none,
# with a None batch); variables (undefined names the recorder supplies); input_dtype (PyTorch).

MODELS: list[dict] = []


def keras_model(id_: str, text: str, input_shape=None, variables=None) -> None:
    MODELS.append({"id": id_, "framework": "keras", "code": code(text),
                   "input_shape": input_shape, "variables": variables or {}})


def torch_model(id_: str, text: str, input_shape, variables=None, input_dtype=None) -> None:
    MODELS.append({"id": id_, "framework": "torch", "code": code(text),
                   "input_shape": input_shape, "variables": variables or {},
                   "input_dtype": input_dtype})


# ---- Keras: the questions

keras_model("keras-q5-conv3d", """
    from keras.models import Sequential
    from keras.layers import Conv3D, MaxPooling3D, Flatten, Dense

    model = Sequential()
    model.add(Conv3D(16, (3, 3, 1), activation='relu', input_shape=(33, 33, 7, 1)))
    model.add(MaxPooling3D((2, 2, 1)))
    model.add(Conv3D(32, (3, 3, 1), activation='relu'))
    model.add(MaxPooling3D((2, 2, 1)))
    model.add(Flatten())
    model.add(Dense(512, activation='relu'))
    model.add(Dense(32, activation='relu'))
    model.add(Dense(1, activation='sigmoid'))
    model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
""")

keras_model("keras-q5-conv3d-depth-variables", """
    from keras.models import Sequential
    from keras.layers import Conv3D, MaxPooling3D, Flatten, Dense

    model = Sequential()
    model.add(Conv3D(depth_1, (3, 3, 1), activation='relu', input_shape=(33, 33, 7, 1)))
    model.add(MaxPooling3D(pool_size=(2, 2, 1)))
    model.add(Conv3D(depth_2, (3, 3, 1), activation='relu'))
    model.add(MaxPooling3D(pool_size=(2, 2, 1)))
    model.add(Flatten())
    model.add(Dense(num_hidden, activation='relu'))
    model.add(Dense(32, activation='relu'))
    model.add(Dense(1, activation='sigmoid'))
""", variables={"depth_1": 16, "depth_2": 32, "num_hidden": 512})

keras_model("keras-q6-conv1d-sentence-functional", """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(50, 300))  # 50 words, 300-d word vectors
    x = layers.Conv1D(filters=100, kernel_size=4, padding='same', activation='relu')(inputs)
    x = layers.GlobalMaxPooling1D()(x)
    outputs = layers.Dense(1, activation='sigmoid')(x)
    model = keras.Model(inputs, outputs)
""")

# Keras 3 ignores Embedding(input_length=...) (deprecated): the model has no input of its own.
keras_model("keras-q6-conv1d-embedding-input-length", """
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.layers import Embedding, Conv1D, MaxPooling1D, Flatten, Dense

    model = Sequential([
        Embedding(10000, 300, input_length=50),
        Conv1D(filters=100, kernel_size=4, padding='same', activation='relu'),
        MaxPooling1D(pool_size=2),
        Flatten(),
        Dense(1, activation='sigmoid'),
    ])
""", input_shape=[None, 50])

keras_model("keras-q1-conv1d-k1-before-lstm", """
    from keras.models import Sequential
    from keras.layers import Conv1D, LSTM, Dense

    model = Sequential()
    model.add(Conv1D(filters=64, kernel_size=1, activation='relu', input_shape=(10, 100)))
    model.add(LSTM(32))
    model.add(Dense(1))
    model.summary()
""")

# ---- Keras: code forms and layer kinds

keras_model("keras-mnist-convnet-sequential-list", """
    import numpy as np
    import keras
    from keras import layers

    num_classes = 10
    input_shape = (28, 28, 1)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
""")

keras_model("keras-functional-bn-activation-pool-same", """
    from tensorflow import keras
    from tensorflow.keras import layers

    inputs = keras.Input(shape=(15, 15, 3))
    x = layers.Conv2D(16, 3, padding='same', use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation('relu')(x)
    x = layers.MaxPooling2D(pool_size=2, padding='same')(x)
    x = layers.Conv2D(32, 3, padding='same')(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation('relu')(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation='softmax')(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
""")

keras_model("keras-tf-keras-inputlayer-zeropadding-depthwise", """
    import tensorflow as tf

    model = tf.keras.Sequential([
        tf.keras.layers.InputLayer(input_shape=(32, 32, 3)),
        tf.keras.layers.ZeroPadding2D(padding=1),
        tf.keras.layers.Conv2D(32, 3, strides=2, activation='relu'),
        tf.keras.layers.DepthwiseConv2D(3, padding='same', depth_multiplier=2),
        tf.keras.layers.SeparableConv2D(64, 3, activation='relu'),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(10),
    ])
""")

keras_model("keras-dense-after-conv2d-no-flatten", """
    from keras.models import Sequential
    from keras.layers import Conv2D, Dense

    model = Sequential()
    model.add(Conv2D(8, (3, 3), activation='relu', input_shape=(10, 10, 3)))
    model.add(Dense(4, activation='softmax'))
""")

keras_model("keras-conv-autoencoder-upsampling", """
    import keras
    from keras import layers

    input_img = keras.Input(shape=(28, 28, 1))

    x = layers.Conv2D(16, (3, 3), activation='relu', padding='same')(input_img)
    x = layers.MaxPooling2D((2, 2), padding='same')(x)
    x = layers.Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    x = layers.MaxPooling2D((2, 2), padding='same')(x)
    x = layers.Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    encoded = layers.MaxPooling2D((2, 2), padding='same')(x)

    # at this point the representation is (4, 4, 8) i.e. 128-dimensional

    x = layers.Conv2D(8, (3, 3), activation='relu', padding='same')(encoded)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(8, (3, 3), activation='relu', padding='same')(x)
    x = layers.UpSampling2D((2, 2))(x)
    x = layers.Conv2D(16, (3, 3), activation='relu')(x)
    x = layers.UpSampling2D((2, 2))(x)
    decoded = layers.Conv2D(1, (3, 3), activation='sigmoid', padding='same')(x)

    autoencoder = keras.Model(input_img, decoded)
    autoencoder.compile(optimizer='adam', loss='binary_crossentropy')
""")

keras_model("keras-lstm-return-sequences-timedistributed-dense", """
    from keras.models import Sequential
    from keras.layers import LSTM, TimeDistributed, Dense

    model = Sequential()
    model.add(LSTM(64, return_sequences=True, input_shape=(20, 8)))
    model.add(LSTM(32, return_sequences=True))
    model.add(TimeDistributed(Dense(1)))
    model.compile(loss='mse', optimizer='adam')
""")

keras_model("keras-cnn-lstm-timedistributed-conv2d", """
    from tensorflow.keras import layers, models

    model = models.Sequential()
    model.add(layers.TimeDistributed(layers.Conv2D(8, (3, 3), activation='relu'),
                                     input_shape=(5, 32, 32, 3)))
    model.add(layers.TimeDistributed(layers.MaxPooling2D((2, 2))))
    model.add(layers.TimeDistributed(layers.Flatten()))
    model.add(layers.LSTM(16))
    model.add(layers.Dense(2, activation='softmax'))
""")

keras_model("keras-embedding-gru-no-input", """
    import keras
    from keras import layers

    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.GRU(128, return_sequences=True))
    model.add(layers.GRU(64))
    model.add(layers.Dense(10))
""", input_shape=[None, 40])

keras_model("keras-reshape-permute-conv1d-causal", """
    from keras import layers, models

    model = models.Sequential([
        layers.Input(shape=(600,)),
        layers.Reshape((20, 30)),
        layers.Permute((2, 1)),
        layers.Conv1D(32, 3, activation='relu'),
        layers.AveragePooling1D(pool_size=2),
        layers.Conv1D(64, 3, padding='causal', dilation_rate=2, activation='relu'),
        layers.GlobalMaxPooling1D(),
        layers.Dense(10, activation='softmax'),
    ])
""")

keras_model("keras-dcgan-generator-conv2dtranspose", """
    import tensorflow as tf
    from tensorflow.keras import layers

    model = tf.keras.Sequential()
    model.add(layers.Dense(7*7*64, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((7, 7, 64)))
    assert model.output_shape == (None, 7, 7, 64)  # Note: None is the batch size

    model.add(layers.Conv2DTranspose(32, (5, 5), strides=(1, 1), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(16, (5, 5), strides=(2, 2), padding='same', use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', use_bias=False,
                                     activation='tanh'))
    assert model.output_shape == (None, 28, 28, 1)
""")

keras_model("keras-conv1d-signal-keras-layers-prefix", """
    import keras

    model = keras.Sequential()
    model.add(keras.layers.Conv1D(32, 7, strides=2, activation='relu', input_shape=(128, 3)))
    model.add(keras.layers.MaxPooling1D(3))
    model.add(keras.layers.Conv1D(64, 5, padding='same', activation='relu'))
    model.add(keras.layers.AveragePooling1D(3, padding='same'))
    model.add(keras.layers.GlobalAveragePooling1D())
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Dense(5, activation='softmax'))
""")

keras_model("keras-conv3d-video-same-padding", """
    from keras import layers, models

    model = models.Sequential([
        layers.Conv3D(8, kernel_size=3, padding='same', activation='relu',
                      input_shape=(8, 16, 16, 1)),
        layers.MaxPooling3D(pool_size=(1, 2, 2)),
        layers.Conv3D(16, kernel_size=(3, 3, 3), activation='relu'),
        layers.AveragePooling3D(pool_size=2, padding='same'),
        layers.Flatten(),
        layers.Dense(4, activation='softmax'),
    ])
""")

keras_model("keras-vgg-block-activation-layers", """
    from keras.models import Sequential
    from keras.layers import Conv2D, MaxPooling2D, Dropout, Flatten, Dense
    from keras.layers import ReLU, LeakyReLU, Softmax

    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding='same', input_shape=(32, 32, 3)))
    model.add(ReLU())
    model.add(Conv2D(32, (3, 3), padding='same'))
    model.add(LeakyReLU(alpha=0.1))
    model.add(MaxPooling2D(pool_size=(2, 2), strides=2))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(64))
    model.add(ReLU())
    model.add(Dense(10))
    model.add(Softmax())
""")

keras_model("keras-resnet-stem-named-layers", """
    from keras import layers, Model, Input

    img_input = Input(shape=(64, 64, 3))
    x = layers.ZeroPadding2D(padding=(3, 3), name='conv1_pad')(img_input)
    x = layers.Conv2D(64, (7, 7), strides=(2, 2), name='conv1')(x)
    x = layers.BatchNormalization(axis=3, name='bn_conv1')(x)
    x = layers.Activation('relu')(x)
    x = layers.ZeroPadding2D(padding=(1, 1), name='pool1_pad')(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.GlobalAveragePooling2D(name='avg_pool')(x)
    x = layers.Dense(10, activation='softmax', name='fc10')(x)
    model = Model(img_input, x, name='resnet_stem')
""")

keras_model("keras-mobilenet-block-relu6", """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding='same', use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    x = layers.DepthwiseConv2D(3, padding='same', use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    x = layers.Conv2D(32, 1, use_bias=False)(x)
    x = layers.SeparableConv2D(64, 3, strides=2, padding='same')(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation='softmax')(x)
    model = keras.Model(inputs, outputs)
""")

keras_model("keras-channels-first-conv2d", """
    from keras.models import Sequential
    from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

    model = Sequential()
    model.add(Conv2D(16, (5, 5), data_format='channels_first', activation='relu',
                     input_shape=(3, 32, 24)))
    model.add(MaxPooling2D((2, 2), data_format='channels_first'))
    model.add(Flatten())
    model.add(Dense(10))
""")

keras_model("keras-sequential-no-input-default-pool", """
    from keras import Sequential
    from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

    model = Sequential([
        Conv2D(16, 3, activation='relu'),
        MaxPooling2D(),
        Conv2D(32, 3, activation='relu'),
        MaxPooling2D(),
        Flatten(),
        Dense(10, activation='softmax'),
    ])
""", input_shape=[None, 28, 28, 1])

# ---- Keras: models that do not fit

keras_model("keras-error-maxpool-to-zero", """
    from keras.models import Sequential
    from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding='same', activation='relu', input_shape=(28, 28, 1)))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, (3, 3), padding='same', activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(128, (3, 3), padding='same', activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(128, (3, 3), padding='same', activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(256, (3, 3), padding='same', activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(10, activation='softmax'))
""")

keras_model("keras-error-conv2d-on-1d-signal", """
    from keras.models import Sequential
    from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

    model = Sequential()
    model.add(Conv2D(64, (3, 3), activation='relu', input_shape=(128, 9)))
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(6, activation='softmax'))
""")

keras_model("keras-error-lstm-after-flatten", """
    from keras.models import Sequential
    from keras.layers import Conv2D, MaxPooling2D, Flatten, LSTM, Dense

    model = Sequential([
        Conv2D(16, (3, 3), activation='relu', input_shape=(32, 32, 1)),
        MaxPooling2D((2, 2)),
        Flatten(),
        LSTM(50),
        Dense(1),
    ])
""")

# ---- PyTorch: the questions

torch_model("torch-q2-conv1d-sequential", """
    import torch
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv1d(16, 32, kernel_size=5, stride=2),
        nn.ReLU(),
        nn.MaxPool1d(2, stride=2),
        nn.Dropout(0.25),
    )
""", [4, 16, 100])

# ---- PyTorch: code forms and layer kinds

torch_model("torch-lenet-tutorial-flatten", """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1) # flatten all dimensions except batch
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x


    net = Net()
""", [4, 3, 32, 32])

torch_model("torch-lenet-view-functional-pool", """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):

        def __init__(self):
            super(Net, self).__init__()
            # 1 input image channel, 6 output channels, 5x5 square convolution
            # kernel
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            # an affine operation: y = Wx + b
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            # Max pooling over a (2, 2) window
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            # If the size is a square you can only specify a single number
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, 16 * 5 * 5)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x


    net = Net()
    print(net)
""", [1, 1, 32, 32])

torch_model("torch-alexnet-features-avgpool-classifier", """
    import torch
    from torch import nn


    class SmallAlexNet(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 32, kernel_size=11, stride=4, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(32, 64, kernel_size=5, padding=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(64, 96, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
            )
            self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
            self.classifier = nn.Sequential(
                nn.Dropout(),
                nn.Linear(96 * 6 * 6, 256),
                nn.ReLU(inplace=True),
                nn.Linear(256, num_classes),
            )

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            x = self.classifier(x)
            return x


    model = SmallAlexNet()
""", [2, 3, 224, 224])

torch_model("torch-from-torch-import-nn-batchnorm", """
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.LeakyReLU(0.1),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 8 * 8, 10),
        nn.Softmax(dim=1),
    )
""", [2, 3, 32, 32])

torch_model("torch-spelled-out-torch-nn-strided", """
    import torch

    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 7 * 7, 10),
    )
""", [2, 1, 28, 28])

torch_model("torch-mlp-linear-keywords-batchnorm1d", """
    import torch.nn as nn


    class MLP(nn.Module):
        def __init__(self):
            super(MLP, self).__init__()
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(in_features=28 * 28, out_features=256)
            self.bn1 = nn.BatchNorm1d(num_features=256)
            self.relu = nn.ReLU()
            self.dropout = nn.Dropout(p=0.2)
            self.fc2 = nn.Linear(in_features=256, out_features=10)

        def forward(self, x):
            x = self.flatten(x)
            x = self.dropout(self.relu(self.bn1(self.fc1(x))))
            return self.fc2(x)


    model = MLP()
""", [2, 1, 28, 28])

torch_model("torch-conv3d-volume", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv3d(1, 8, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool3d(2),
        nn.Conv3d(8, 16, kernel_size=(3, 3, 1), padding=(1, 1, 0)),
        nn.ReLU(),
        nn.AvgPool3d(kernel_size=2, stride=1),
        nn.Flatten(),
        nn.Linear(16 * 6 * 6 * 2, 2),
    )
""", [2, 1, 16, 16, 8])

torch_model("torch-decoder-linear-view-convtranspose", """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Decoder(nn.Module):
        def __init__(self, latent_dim=16):
            super().__init__()
            self.fc = nn.Linear(latent_dim, 32 * 7 * 7)
            self.deconv1 = nn.ConvTranspose2d(32, 16, kernel_size=4, stride=2, padding=1)
            self.deconv2 = nn.ConvTranspose2d(16, 1, kernel_size=4, stride=2, padding=1)

        def forward(self, z):
            x = F.relu(self.fc(z))
            x = x.view(-1, 32, 7, 7)
            x = F.relu(self.deconv1(x))
            x = torch.sigmoid(self.deconv2(x))
            return x


    model = Decoder()
""", [2, 16])

torch_model("torch-upsample-zeropad2d-odd-width", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Upsample(scale_factor=2, mode='nearest'),
        nn.ZeroPad2d((1, 1, 2, 0)),
        nn.Conv2d(8, 3, kernel_size=3),
    )
""", [1, 3, 16, 15])

torch_model("torch-embedding-lstm-batch-first", """
    import torch
    import torch.nn as nn


    class LSTMClassifier(nn.Module):
        def __init__(self, vocab_size=1000, embed_dim=64, hidden_dim=128, num_classes=2):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_dim)
            self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
            self.fc = nn.Linear(hidden_dim, num_classes)

        def forward(self, x):
            x = self.embedding(x)
            out, (h, c) = self.lstm(x)
            out = self.fc(out[:, -1, :])
            return out


    model = LSTMClassifier()
""", [4, 20], input_dtype="int64")

torch_model("torch-bilstm-two-layers-seq-first", """
    import torch
    import torch.nn as nn


    class BiLSTMTagger(nn.Module):
        def __init__(self):
            super(BiLSTMTagger, self).__init__()
            self.lstm = nn.LSTM(input_size=10, hidden_size=20, num_layers=2, bidirectional=True)
            self.hidden2tag = nn.Linear(2 * 20, 5)

        def forward(self, x):
            # x: (seq_len, batch, input_size) -- batch_first is False by default
            lstm_out, _ = self.lstm(x)
            return self.hidden2tag(lstm_out)


    model = BiLSTMTagger()
""", [7, 3, 10])

torch_model("torch-gru-seq-first-last-step", """
    import torch.nn as nn


    class GRUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(8, 16)
            self.fc = nn.Linear(16, 4)

        def forward(self, x):
            out, h = self.gru(x)
            return self.fc(out[-1])


    net = GRUNet()
""", [12, 2, 8])

torch_model("torch-conv1d-audio-avgpool-adaptive", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv1d(1, 16, kernel_size=80, stride=4),
        nn.BatchNorm1d(16),
        nn.ReLU(),
        nn.MaxPool1d(4),
        nn.Conv1d(16, 32, kernel_size=3),
        nn.ReLU(),
        nn.AvgPool1d(3),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )
""", [2, 1, 1000])

torch_model("torch-dcgan-generator-convtranspose", """
    import torch.nn as nn

    nz, ngf, nc = 100, 32, 1

    netG = nn.Sequential(
        # input is Z, going into a convolution
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        # state size. (ngf*4) x 4 x 4
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        # state size. (ngf*2) x 8 x 8
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        # state size. (ngf) x 16 x 16
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
        nn.Tanh()
        # state size. (nc) x 32 x 32
    )
""", [2, 100, 1, 1])

torch_model("torch-conv2d-channel-variables", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(in_channels, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, num_classes),
    )
""", [2, 3, 24, 24], variables={"in_channels": 3, "num_classes": 5})

# ---- PyTorch: models that do not fit

torch_model("torch-error-lenet-wrong-linear-in-features", """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 4 * 4, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            x = self.fc3(x)
            return x


    net = Net()
""", [4, 3, 32, 32])

torch_model("torch-error-conv2d-in-channels-mismatch", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3),
        nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=3),
        nn.ReLU(),
        nn.Flatten(),
    )
""", [1, 3, 28, 28])

torch_model("torch-error-linear-without-flatten", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(1, 8, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Linear(8 * 13 * 13, 10),
    )
""", [2, 1, 28, 28])

torch_model("torch-error-flatten-start-after-end", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.Flatten(start_dim=2, end_dim=1),
        nn.Linear(8 * 6 * 6, 10),
    )
""", [1, 3, 8, 8])

torch_model("torch-error-flatten-dim-out-of-range", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv1d(4, 8, 3),
        nn.Flatten(start_dim=3),
        nn.Linear(8 * 8, 10),
    )
""", [2, 4, 10])

torch_model("torch-flatten-negative-dims", """
    import torch.nn as nn

    model = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.Flatten(-2, -1),
        nn.Linear(36, 5),
    )
""", [2, 3, 8, 8])

# ---- layer coverage: normalization, padding, resampling and preprocessing layers published models use

torch_model("torch-norms-pads-pixel-unshuffle", """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.pad = nn.ReplicationPad2d((1, 2, 0, 1))
            self.conv = nn.Conv2d(3, 8, 3)
            self.gn = nn.GroupNorm(2, 8)
            self.unshuffle = nn.PixelUnshuffle(2)
            self.cpad = nn.ConstantPad1d(2, 0.5)
            self.ln = nn.LayerNorm([32, 6, 10])
            self.inorm = nn.InstanceNorm2d(32)
            self.up = nn.Upsample(size=(10, 12), mode="nearest")
            self.zero = nn.ZeroPad2d(1)
            self.ident = nn.Identity()
            self.prelu = nn.PReLU(32)

        def forward(self, x):
            x = self.gn(self.conv(self.pad(x)))
            x = self.unshuffle(x)
            x = self.cpad(x.flatten(2)).view(x.size(0), 32, 6, -1)
            x = self.inorm(self.ln(x))
            x = self.zero(self.up(x))
            return self.prelu(self.ident(x.permute(0, 2, 3, 1).mean(dim=1, keepdim=True)).transpose(1, 3))

    model = Net()
""", [2, 3, 15, 15])

keras_model("keras-preprocessing-crop-resize-layers", """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(40, 36, 3))
    x = layers.RandomFlip("horizontal")(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.CenterCrop(32, 30)(x)
    x = layers.Resizing(24, 24)(x)
    x = layers.Conv2D(8, 3, padding="same")(x)
    x = layers.Cropping2D(((1, 2), (0, 3)))(x)
    x = layers.LayerNormalization(axis=-1)(x)
    x = layers.Reshape((21 * 21, 8))(x)
    x = layers.UpSampling1D(2)(x)
    x = layers.Cropping1D((2, 0))(x)
    x = layers.ZeroPadding1D(1)(x)
    x = layers.AvgPool1D(4)(x)
    x = layers.PReLU(shared_axes=[1])(x)
    x = layers.GlobalMaxPool1D()(x)
    x = layers.Dense(3)(x)
    outputs = layers.Activation("softmax")(x)
    model = keras.Model(inputs, outputs)
""")

keras_model("keras-encoder-decoder-models-called-as-layers", """
    import keras
    from keras import layers

    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(encoder_inputs)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    latent = layers.Dense(16)(x)
    encoder = keras.Model(encoder_inputs, latent, name="encoder")

    latent_inputs = keras.Input(shape=(16,))
    x = layers.Dense(7 * 7 * 32, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 32))(x)
    x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
    decoded = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(x)
    decoder = keras.Model(latent_inputs, decoded, name="decoder")

    inputs = keras.Input(shape=(28, 28, 1))
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
""")

# ---- models as published (tests/golden/published.py): data flow, blocks, helpers, shapes from arguments

from published import PUBLISHED  # noqa: E402 (next to the models it records)

for _entry in PUBLISHED:
    MODELS.append({"input_dtype": None, "input_from": "code" if _entry["input_shape"] is None else "request",
                   **_entry, "code": code(_entry["code"])})
    if _entry["framework"] == "torch":
        MODELS[-1]["input_from"] = "request"

# ---- the frameworks' own zoos (torchvision.models, keras.applications) named in a paste

def import_torchvision():
    """torchvision for the zoo's models (pip install torchvision==0.29.1 --no-deps). A wheel built against another
    torch fails to register its C++ operators (nms, roi_align) at import; the classification models need none of
    them, so that registration is skipped."""
    try:
        import torchvision
    except RuntimeError:
        for name in [n for n in sys.modules if n.startswith("torchvision")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        import torchvision
    return torchvision


@contextlib.contextmanager
def no_downloads():
    """weights='imagenet' / weights='IMAGENET1K_V1' load numbers, never shapes: the recorder builds the model and
    skips the download and the load (every other check, e.g. classes=1000 with imagenet, still runs)."""
    import torchvision
    from keras.src.utils import file_utils
    from torchvision.models._api import WeightsEnum

    saved = (WeightsEnum.get_state_dict, torch.nn.Module.load_state_dict, file_utils.get_file, keras.Model.load_weights)
    real_load = torch.nn.Module.load_state_dict
    WeightsEnum.get_state_dict = lambda self, *a, **k: None
    torch.nn.Module.load_state_dict = lambda self, sd, *a, **k: None if sd is None else real_load(self, sd, *a, **k)
    file_utils.get_file = lambda *a, **k: "<not downloaded>"
    real_exists, real_hub = file_utils.exists, torch.hub.load
    file_utils.exists = lambda path: str(path).endswith(".h5") or real_exists(path)  # a weights file named in a paste
    torch.hub.load = lambda repo, name, *a, **k: getattr(torchvision.models, name)(*a, **k)  # pytorch/vision's hubconf
    keras.Model.load_weights = lambda self, path, *a, **k: None
    try:
        yield torchvision
    finally:
        (WeightsEnum.get_state_dict, torch.nn.Module.load_state_dict, file_utils.get_file,
         keras.Model.load_weights) = saved
        file_utils.exists, torch.hub.load = real_exists, real_hub


import_torchvision()

for _name, _call in [("resnet18-num-classes", "torchvision.models.resnet18(num_classes=10)"),
                     ("resnet50", "torchvision.models.resnet50()"),
                     ("resnet101", "torchvision.models.resnet101(weights=None)"),
                     ("resnet152", "torchvision.models.resnet152(weights=None)"),
                     ("resnext50", "torchvision.models.resnext50_32x4d()"),
                     ("wide-resnet50", "torchvision.models.wide_resnet50_2(num_classes=100)"),
                     ("vgg16-bn", "torchvision.models.vgg16_bn(num_classes=100)"),
                     ("vgg11", "torchvision.models.vgg11()"),
                     ("alexnet", "torchvision.models.alexnet(num_classes=10, dropout=0.3)"),
                     ("mobilenet-v2-half", "torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.5)"),
                     ("mobilenet-v3-small", "torchvision.models.mobilenet_v3_small(num_classes=10)"),
                     ("mobilenet-v3-large", "torchvision.models.mobilenet_v3_large()"),
                     ("squeezenet1-0", "torchvision.models.squeezenet1_0(num_classes=5)"),
                     ("squeezenet1-1", "torchvision.models.squeezenet1_1()"),
                     ("densenet121", "torchvision.models.densenet121(num_classes=3)"),
                     ("efficientnet-b0", "torchvision.models.efficientnet_b0(num_classes=10)"),
                     ("efficientnet-b3", "torchvision.models.efficientnet_b3(weights=None, dropout=0.5)"),
                     ("efficientnet-b4", "torchvision.models.efficientnet_b4(num_classes=10)"),
                     ("efficientnet-b7", "torchvision.models.efficientnet_b7(weights=None)"),
                     ("efficientnet-v2-s", "torchvision.models.efficientnet_v2_s(num_classes=5)"),
                     ("efficientnet-v2-l", "torchvision.models.efficientnet_v2_l()"),
                     ("shufflenet-v2-x1-0", "torchvision.models.shufflenet_v2_x1_0(num_classes=10)"),
                     ("shufflenet-v2-x0-5", "torchvision.models.shufflenet_v2_x0_5()"),
                     ("shufflenet-v2-x2-0", "torchvision.models.shufflenet_v2_x2_0(weights=None)"),
                     ("mnasnet1-0", "torchvision.models.mnasnet1_0(num_classes=10)"),
                     ("mnasnet0-5", "torchvision.models.mnasnet0_5(dropout=0.1)"),
                     ("mnasnet1-3", "torchvision.models.mnasnet1_3()"),
                     ("googlenet-no-aux", "torchvision.models.googlenet(aux_logits=False, num_classes=10)"),
                     ("googlenet-pretrained", "torchvision.models.googlenet(weights='IMAGENET1K_V1')"),
                     ("regnet-y-400mf", "torchvision.models.regnet_y_400mf(num_classes=10)"),
                     ("regnet-y-3-2gf", "torchvision.models.regnet_y_3_2gf()"),
                     ("regnet-y-16gf", "torchvision.models.regnet_y_16gf(weights=None)"),
                     ("regnet-x-400mf", "torchvision.models.regnet_x_400mf()"),
                     ("regnet-x-1-6gf", "torchvision.models.regnet_x_1_6gf(num_classes=100)")]:
    torch_model(f"zoo-torch-{_name}", f"""
        import torchvision

        model = {_call}
    """, [1, 3, 224, 224])

for _name, _call in [("inception-v3-no-aux", "torchvision.models.inception_v3(weights=None, aux_logits=False, "
                                             "init_weights=False)"),
                     ("inception-v3-no-aux-transform", "torchvision.models.inception_v3(aux_logits=False, "
                                                       "transform_input=True, num_classes=8)")]:
    torch_model(f"zoo-torch-{_name}", f"""
        import torchvision

        model = {_call}
    """, [1, 3, 299, 299])

for _name in ("y_800mf", "y_1_6gf", "y_8gf", "y_32gf", "x_800mf", "x_3_2gf", "x_8gf", "x_16gf", "x_32gf"):
    # every other regnet_* but y_128gf at a small input: their block widths come from float arithmetic the zoo
    # source writes with Python's floats where torchvision uses float32 tensors
    torch_model(f"zoo-torch-regnet-{_name.replace('_', '-')}-small-input", f"""
        from torchvision import models

        model = models.regnet_{_name}()
    """, [1, 3, 64, 64])

torch_model("zoo-torch-models-import-small-input", """
    from torchvision import models

    model = models.resnet34(weights=None)
""", [2, 3, 64, 64])

torch_model("zoo-torch-backbone-in-a-module", """
    import torch
    import torch.nn as nn
    from torchvision.models import resnet18


    class Classifier(nn.Module):
        def __init__(self, n_classes=5):
            super().__init__()
            self.backbone = resnet18(weights=None)
            self.backbone.fc = nn.Identity()
            self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(512, n_classes))

        def forward(self, x):
            return self.head(self.backbone(x))


    model = Classifier()
""", [1, 3, 224, 224])

torch_model("zoo-torch-features-without-the-head", """
    import torch.nn as nn
    import torchvision.models as models

    resnet = models.resnet50()
    model = nn.Sequential(*list(resnet.children())[:-2])
""", [1, 3, 224, 224])

for _name, _call, _shape in [
        ("resnet50", "keras.applications.ResNet50(weights=None)", None),
        ("resnet152", "keras.applications.ResNet152(weights=None, classes=10)", None),
        ("vgg16-notop", "keras.applications.VGG16(include_top=False, weights=None, input_shape=(150, 150, 3))", None),
        ("vgg19-classes", "keras.applications.vgg19.VGG19(weights=None, classes=10)", None),
        ("mobilenetv2-96-notop", "keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False)", None),
        ("mobilenetv2-alpha", "keras.applications.MobileNetV2(input_shape=(128, 128, 3), alpha=0.35, weights=None, "
                              "classes=7)", None),
        ("mobilenetv2-odd-size", "keras.applications.MobileNetV2(input_shape=(75, 75, 3), include_top=False, "
                                 "weights=None, pooling='max')", None),
        ("resnet50-pooling", "keras.applications.ResNet50(include_top=False, input_shape=(200, 200, 3), "
                             "pooling='avg')", None),
        ("xception", "keras.applications.Xception(weights=None)", None),
        ("mobilenet", "keras.applications.MobileNet(weights=None, classes=12)", None),
        ("mobilenet-half-notop", "keras.applications.mobilenet.MobileNet(input_shape=(160, 160, 3), alpha=0.5, "
                                 "include_top=False, pooling='avg')", None),
        ("densenet121", "keras.applications.DenseNet121(weights=None, classes=4)", None),
        ("densenet201-notop", "keras.applications.densenet.DenseNet201(include_top=False, weights=None, "
                              "input_shape=(96, 96, 3), pooling='avg')", None),
        ("xception-notop-max", "keras.applications.xception.Xception(include_top=False, weights=None, "
                               "input_shape=(100, 120, 3), pooling='max')", None),
        ("efficientnetb0-notop", "keras.applications.EfficientNetB0(include_top=False, input_shape=(224, 224, 3))",
         None),
        ("efficientnetb0-classes", "keras.applications.EfficientNetB0(weights=None, classes=10)", None),
        ("efficientnetb3-avg", "keras.applications.efficientnet.EfficientNetB3(include_top=False, weights=None, "
                               "input_shape=(200, 150, 3), pooling='avg')", None),
        ("efficientnetb4-notop-max", "keras.applications.EfficientNetB4(include_top=False, weights='imagenet', "
                                     "input_shape=(380, 380, 3), pooling='max')", None),
        ("efficientnetb7", "keras.applications.EfficientNetB7(weights=None)", None),
        ("resnet50v2", "keras.applications.ResNet50V2(weights=None, classes=5)", None),
        ("resnet101v2-notop", "keras.applications.resnet_v2.ResNet101V2(include_top=False, input_shape=(160, 160, 3), "
                              "pooling='avg')", None),
        ("resnet152v2", "keras.applications.ResNet152V2(weights=None)", None),
        ("mobilenetv3small", "keras.applications.MobileNetV3Small(input_shape=(224, 224, 3), weights=None, "
                             "classes=10)", None),
        ("mobilenetv3large-notop", "keras.applications.MobileNetV3Large(input_shape=(160, 160, 3), "
                                   "include_top=False, pooling='avg')", None),
        ("mobilenetv3small-minimalistic", "keras.applications.MobileNetV3Small(input_shape=(96, 128, 3), "
                                          "alpha=0.75, minimalistic=True, weights=None, "
                                          "include_preprocessing=False)", None),
        ("mobilenetv3large-alpha", "keras.applications.MobileNetV3Large(input_shape=(224, 224, 3), alpha=1.25, "
                                   "weights=None, dropout_rate=0.0)", None),
        ("inceptionv3", "keras.applications.InceptionV3(weights=None, classes=6)", None),
        ("inceptionv3-notop", "keras.applications.inception_v3.InceptionV3(include_top=False, "
                              "input_shape=(150, 150, 3), pooling='avg')", None),
        ("efficientnetv2b0", "keras.applications.EfficientNetV2B0(weights=None, classes=3)", None),
        ("efficientnetv2b3-notop", "keras.applications.efficientnet_v2.EfficientNetV2B3(include_top=False, "
                                   "input_shape=(224, 224, 3), pooling='avg')", None),
        ("efficientnetv2s-no-preprocessing", "keras.applications.EfficientNetV2S(weights=None, "
                                             "include_preprocessing=False)", None),
        ("efficientnetv2l-notop", "keras.applications.EfficientNetV2L(include_top=False, weights=None, "
                                  "input_shape=(256, 256, 3))", None),
        ("inceptionresnetv2", "keras.applications.InceptionResNetV2(weights=None, classes=7)", None),
        ("inceptionresnetv2-notop", "keras.applications.inception_resnet_v2.InceptionResNetV2(include_top=False, "
                                    "input_shape=(200, 180, 3), pooling='max')", None)]:
    keras_model(f"zoo-keras-{_name}", f"""
        import keras

        model = {_call}
    """, _shape)

keras_model("zoo-keras-backbone-tensorflow-import", """
    import tensorflow as tf
    from tensorflow.keras.applications import ResNet101

    base = ResNet101(include_top=False, weights=None, input_shape=(128, 128, 3))
    inputs = tf.keras.Input(shape=(128, 128, 3))
    x = base(inputs, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(3, activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
""")


# --------------------------------------------------------------------------- expected numbers
# Facts stated in docs/QUESTIONS.md; the script refuses to write traces.json if they do not come out.

Q5_ROWS = {0: ([None, 31, 31, 7, 16], 160), 1: ([None, 15, 15, 7, 16], 0),
           4: ([None, 8064], 0), 7: ([None, 1], 33)}
EXPECTED = {
    "torch-q2-conv1d-sequential": {
        "rows": {0: ([4, 32, 48], 2592), 1: ([4, 32, 48], 0), 2: ([4, 32, 24], 0),
                 3: ([4, 32, 24], 0)},
        "n_rows": 4, "total_params": 2592},
    "keras-q5-conv3d": {"rows": Q5_ROWS, "n_rows": 8, "total_params": 4150529},
    "keras-q5-conv3d-depth-variables": {"rows": Q5_ROWS, "n_rows": 8, "total_params": 4150529},
    "keras-q6-conv1d-sentence-functional": {"rows": {0: ([None, 50, 100], 120100)}},
    "keras-q6-conv1d-embedding-input-length": {"rows": {0: ([None, 50, 300], 3000000),
                                                        1: ([None, 50, 100], 120100)}},
    "keras-q1-conv1d-k1-before-lstm": {"rows": {0: ([None, 10, 64], 6464)}},
    # published counts: torchvision's model docs (ResNet-18 11,689,512; ResNet-34 21,797,672; VGG-16 138,357,544;
    # SqueezeNet 1.1 1,235,496) and milesial/Pytorch-UNet's README-era U-Net (31,037,698 with 2 classes)
    "torch-resnet18": {"rows": {}, "total_params": 11_689_512},
    "torch-resnet34": {"rows": {}, "total_params": 21_797_672},
    "torch-vgg16": {"rows": {}, "total_params": 138_357_544},
    "torch-squeezenet11": {"rows": {}, "total_params": 1_235_496},
    "torch-unet-transposed": {"rows": {}, "total_params": 31_037_698},
}


# --------------------------------------------------------------------------- executing snippets


def clean_message(exc: BaseException) -> str:
    """The exception text without terminal colours and Keras' 'Arguments received' appendix
    (which names symbolic tensors by a per-process counter)."""
    message = ANSI.sub("", str(exc))
    message = message.split("\nArguments received by")[0]
    return message.strip()[:300]


def snippet_import(real_import):
    """``__import__`` for snippets: ``tensorflow`` / ``tensorflow.keras...`` map onto Keras 3."""
    fake_tf = types.ModuleType("tensorflow")
    fake_tf.keras = keras

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "tensorflow" or name.startswith("tensorflow.")):
            if name == "tensorflow" or not fromlist:
                return fake_tf
            target = "keras" + name[len("tensorflow.keras"):]
            if not name.startswith("tensorflow.keras"):
                raise ImportError(f"recorder maps only tensorflow.keras, not {name}")
            return importlib.import_module(target)
        return real_import(name, globals, locals, fromlist, level)

    return _import


def run_snippet(spec: dict) -> tuple[dict, BaseException | None]:
    """Execute the snippet; return its namespace and the exception it raised, if any.

    Dotted variables (``args.dropout``) become attributes of a namespace object; ``data`` entries become numpy
    arrays; a Keras snippet whose input shape the request gives gets that shape from its first ``Input``."""
    import numpy as np

    snippet_builtins = dict(vars(builtins))
    snippet_builtins["__import__"] = snippet_import(builtins.__import__)
    namespace = {"__name__": SNIPPET_MODULE, "__builtins__": snippet_builtins}
    for key, value in spec["variables"].items():
        if "." in key:
            root, attr = key.split(".", 1)
            setattr(namespace.setdefault(root, types.SimpleNamespace()), attr, value)
        else:
            namespace[key] = value
    for key, value in (spec.get("data") or {}).items():
        namespace[key] = np.zeros(value["zeros"]) if "zeros" in value else np.array(value["values"])
    patched = []
    if spec["framework"] == "keras" and spec.get("input_from") == "request":
        real_input = keras.Input
        given = tuple(spec["input_shape"][1:])

        def first_input(*args, **kwargs):
            if not patched:
                patched.append(True)
                kwargs.pop("shape", None)
                return real_input(shape=given, **kwargs)
            return real_input(*args, **kwargs)
        keras.Input = keras.layers.Input = first_input
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(spec["code"], f"<{spec['id']}>", "exec"), namespace)  # noqa: S102 -- our own recorder
    except Exception as exc:  # noqa: BLE001 -- the framework's refusal is the data
        return namespace, exc
    finally:
        if spec["framework"] == "keras" and spec.get("input_from") == "request":
            keras.Input = keras.layers.Input = real_input
    return namespace, None


def find_model(namespace: dict, base: type):
    """``model`` / ``net``, else the last instance assigned, else the last class defined."""
    for name in ("model", "net"):
        if isinstance(namespace.get(name), base):
            return namespace[name]
    instances = [v for k, v in namespace.items() if isinstance(v, base) and not k.startswith("_")
                 and not type(v).__name__.endswith("Loss")]  # criterion = nn.CrossEntropyLoss() is no model
    if instances:
        return instances[-1]
    classes = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, base)
               and v.__module__ == SNIPPET_MODULE]
    if classes:
        return classes[-1]()
    raise LookupError("snippet defines no model")


# --------------------------------------------------------------------------- Keras


def keras_rows(layer_list) -> tuple[list[dict], int | None]:
    """Rows of the layers that have been called; the index of the first one that has not."""
    rows = []
    for i, layer in enumerate(layer_list):
        try:
            output = layer.output
        except (AttributeError, ValueError):
            return rows, i
        rows.append({"name": layer.name, "type": type(layer).__name__,
                     "output_shape": list(output.shape), "params": int(layer.count_params())})
    return rows, None


def sequential_in_traceback(exc: BaseException):
    """The Sequential model being built when ``exc`` was raised (from the frames' ``self``)."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, keras.Sequential):
            found = candidate
        tb = tb.tb_next
    return found


def record_keras(spec: dict) -> dict:
    keras.backend.clear_session()  # layer names as in a fresh session: conv2d, conv2d_1, ...
    namespace, exc = run_snippet(spec)
    entry = {"id": spec["id"], "framework": "keras", "code": spec["code"]}
    if spec.get("source"):
        entry["source"] = spec["source"]

    if exc is not None:
        model = sequential_in_traceback(exc) or namespace.get("model")
        if not isinstance(model, keras.Sequential):
            raise RuntimeError(f"{spec['id']}: failed outside a Sequential model: {exc!r}")
        if spec["input_shape"] is not None:
            raise RuntimeError(f"{spec['id']}: error models take their input from the code")
        input_layer = model._layers[0]
        assert isinstance(input_layer, keras.layers.InputLayer), spec["id"]
        layer_list = [la for la in model._layers if not isinstance(la, keras.layers.InputLayer)]
        rows, index = keras_rows(layer_list)
        assert index is not None, (spec["id"], exc)
        failing = layer_list[index]
        entry.update({
            "input_shape": list(input_layer.batch_shape), "input_from_code": True,
            "variables": spec["variables"], "layers": rows,
            "error": {"index": index, "name": failing.name, "type": type(failing).__name__,
                      "framework_message": clean_message(exc)},
        })
        return entry

    model = find_model(namespace, keras.Model)
    if spec.get("input_from") == "request" and model.built and model.inputs:
        input_shape, from_code = list(spec["input_shape"]), False
        # the model's own input may leave sizes open (a zoo backbone without input_shape): the request's fill them
        assert all(m in (None, g) for m, g in zip(model.inputs[0].shape, input_shape)), spec["id"]
    elif spec["input_shape"] is None:
        assert model.built and model.inputs, f"{spec['id']}: the code gives no input"
        input_shape, from_code = list(model.inputs[0].shape), True
    else:
        assert not model.built, f"{spec['id']}: the code gives an input; drop input_shape"
        input_shape, from_code = list(spec["input_shape"]), False
        model.build(tuple(input_shape))
    layer_list = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    rows, index = keras_rows(layer_list)
    assert index is None, f"{spec['id']}: layer {index} was never called"
    total = int(model.count_params())
    assert total == sum(r["params"] for r in rows), spec["id"]
    entry.update({"input_shape": input_shape, "input_from_code": from_code,
                  "variables": spec["variables"], "layers": rows, "total_params": total})
    return entry


# --------------------------------------------------------------------------- PyTorch


def torch_leaves(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """Modules that get rows: torch.nn's own without children, and RNNs (whatever they contain). A pasted module
    with no children (TCN's Chomp1d) is code, not a layer: the operations its forward() writes are the app's rows."""
    leaves, inside_rnn = [], set()
    for name, module in model.named_modules():
        if any(name.startswith(prefix + ".") for prefix in inside_rnn):
            continue
        if isinstance(module, torch.nn.RNNBase):
            inside_rnn.add(name)
            leaves.append((name, module))
        elif next(module.children(), None) is None and type(module).__module__.startswith("torch."):
            leaves.append((name, module))  # a pasted block with no children (Chomp1d) is followed into its forward
    return leaves


def record_torch(spec: dict) -> dict:
    namespace, exc = run_snippet(spec)
    if exc is not None:
        raise RuntimeError(f"{spec['id']}: the PyTorch snippet itself raised: {exc!r}")
    # 'build': what the snippet defines but never calls (a factory), built here as the app is asked to build it
    model = eval(spec["build"], namespace) if spec.get("build") else find_model(namespace, torch.nn.Module)  # noqa: S307
    model.eval()

    rows: list[dict] = []
    entered: list[tuple[str, torch.nn.Module]] = []
    handles = []
    for name, module in torch_leaves(model):
        def pre_hook(mod, args, name=name):
            entered.append((name, mod))

        def hook(mod, args, output, name=name):
            out = output[0] if isinstance(output, (tuple, list)) else output
            rows.append({"name": name, "type": type(mod).__name__,
                         "output_shape": list(out.shape),
                         "params": sum(p.numel() for p in mod.parameters(recurse=False))})

        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(hook))

    shape = spec["input_shape"]
    if spec["input_dtype"] == "int64":
        x = torch.zeros(shape, dtype=torch.int64)
    else:
        x = torch.zeros(shape)
    error = None
    try:
        with torch.no_grad():
            model(x)
    except Exception as exc:  # noqa: BLE001 -- the framework's refusal is the data
        if len(entered) == len(rows) + 1:  # the failing module was entered (pre-hook) but never finished
            name, mod = entered[-1]
            error = {"index": len(rows), "name": name, "type": type(mod).__name__,
                     "framework_message": clean_message(exc)}
        else:  # a function of forward() failed (torch.cat, +): after the module rows recorded
            assert len(entered) == len(rows), (spec["id"], exc)
            error = {"index": len(rows), "name": None, "type": None, "framework_message": clean_message(exc)}
    finally:
        for handle in handles:
            handle.remove()

    entry = {"id": spec["id"], "framework": "torch", "code": spec["code"],
             "input_shape": list(shape)}
    if spec.get("source"):
        entry["source"] = spec["source"]
    if spec["input_dtype"]:
        entry["input_dtype"] = spec["input_dtype"]
    entry.update({"variables": spec["variables"], "layers": rows})
    if error:
        entry["error"] = error
    else:
        entry["total_params"] = sum(p.numel() for p in model.parameters())
    return entry


# --------------------------------------------------------------------------- checks and main


def check_expected(entry: dict) -> None:
    expected = EXPECTED.get(entry["id"])
    if expected is None:
        return
    rows = entry["layers"]
    assert "error" not in entry, entry["id"]
    if "n_rows" in expected:
        assert len(rows) == expected["n_rows"], (entry["id"], len(rows))
    for i, (shape, params) in expected["rows"].items():
        got = (rows[i]["output_shape"], rows[i]["params"])
        assert got == (shape, params), (entry["id"], i, got, (shape, params))
    if "total_params" in expected:
        assert entry["total_params"] == expected["total_params"], (entry["id"],
                                                                   entry["total_params"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT,
                        help="where to write (default: tests/golden/traces.json)")
    args = parser.parse_args()
    backend = keras.backend.backend()
    if args.out.resolve() == OUT and backend != "torch":
        sys.exit("traces.json is recorded with KERAS_BACKEND=torch; use --out to write elsewhere")

    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    ids = [m["id"] for m in MODELS]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, duplicates

    start = time.perf_counter()
    entries = []
    for spec in MODELS:
        record = record_keras if spec["framework"] == "keras" else record_torch
        with no_downloads():
            entry = record(spec)
        # variables the app must not ask for; the same model in Keras 1/2's words (not runnable on Keras 3)
        entry.update({k: spec[k] for k in ("not_asked", "old_code", "build", "default") if k in spec})
        check_expected(entry)
        entries.append(entry)

    meta = {"torch": torch.__version__, "keras": keras.__version__, "backend": backend,
            "generated_by": "tests/golden/record_traces.py"}
    args.out.write_text(json.dumps({"meta": meta, "models": entries}, indent=1) + "\n")

    for entry in entries:
        status = (f"error at row {entry['error']['index']} ({entry['error']['type']})"
                  if "error" in entry else f"{entry['total_params']:,} params")
        print(f"  {entry['id']:52} {len(entry['layers']):3} rows  {status}")
    n_errors = sum("error" in e for e in entries)
    print(f"{len(entries)} models ({n_errors} that do not fit) -> {args.out} "
          f"in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
