#!/usr/bin/env python3
"""The Keras 3 / TensorFlow peer of `gan-cl bench`: the same MLP GAN (Keras-GAN's `gan.py`) or
DCGAN (TensorFlow's DCGAN tutorial), the same batch and the same iteration as
tools/peer_pytorch.py (G step on BCE(D(G(z)), 1), then D step on real and the same fakes, Adam
for both), on random data, on the CPU, as one compiled `tf.function` per step; `--xla` compiles
the steps with XLA (`jit_compile=True`).

usage: tools/peer_keras.py [--model mlp|dcgan] [--batch-size B] [--iters 50] [--threads 1] [--xla]
       (run it with the Python of the venv that tools/setup-peers makes)
Prints one line: "peer: mlp, batch B: median X ms/iteration ..." (the same shape as bench's)."""
import argparse
import os
import statistics
import time

os.environ.setdefault('KERAS_BACKEND', 'tensorflow')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=['mlp', 'dcgan'], default='mlp')
    ap.add_argument('--batch-size', type=int, default=None)
    ap.add_argument('--iters', type=int, default=50)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--xla', action='store_true')
    a = ap.parse_args()
    import tensorflow as tf  # after the environment above; threads are set before first use
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    from keras import layers

    keras.utils.set_random_seed(1)
    latent = 100
    if a.model == 'mlp':
        G = keras.Sequential([keras.Input((latent,))] + [
            l for h in (256, 512, 1024)
            for l in (layers.Dense(h), layers.LeakyReLU(0.2), layers.BatchNormalization(momentum=0.8))
        ] + [layers.Dense(784, activation='tanh')])
        D = keras.Sequential([keras.Input((784,)), layers.Dense(512), layers.LeakyReLU(0.2),
                              layers.Dense(256), layers.LeakyReLU(0.2), layers.Dense(1)])
        lr = 2e-4
    else:
        G = keras.Sequential([
            keras.Input((latent,)), layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(), layers.LeakyReLU(0.3), layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding='same', use_bias=False),
            layers.BatchNormalization(), layers.LeakyReLU(0.3),
            layers.Conv2DTranspose(64, 5, strides=2, padding='same', use_bias=False),
            layers.BatchNormalization(), layers.LeakyReLU(0.3),
            layers.Conv2DTranspose(1, 5, strides=2, padding='same', use_bias=False,
                                   activation='tanh'),
            layers.Flatten()])
        D = keras.Sequential([
            keras.Input((784,)), layers.Reshape((28, 28, 1)),
            layers.Conv2D(64, 5, strides=2, padding='same'), layers.LeakyReLU(0.3),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding='same'), layers.LeakyReLU(0.3),
            layers.Dropout(0.3), layers.Flatten(), layers.Dense(1)])
        lr = 1e-4
    opt_g = keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.999)
    opt_d = keras.optimizers.Adam(lr, beta_1=0.5, beta_2=0.999)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    B = a.batch_size or (64 if a.model == 'mlp' else 256)
    data = tf.random.uniform((4096, 784), -1.0, 1.0)
    ones, zeros = tf.ones((B, 1)), tf.zeros((B, 1))

    @tf.function(jit_compile=a.xla)
    def step(real):
        z = tf.random.normal((B, latent))
        with tf.GradientTape() as tape:
            fake = G(z, training=True)
            g_loss = bce(ones, D(fake, training=True))
        opt_g.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables),
                                  G.trainable_variables))
        fake = tf.stop_gradient(fake)
        with tf.GradientTape() as tape:
            d_loss = (bce(ones, D(real, training=True)) + bce(zeros, D(fake, training=True))) / 2
        opt_d.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables),
                                  D.trainable_variables))
        return d_loss

    def iteration(i):
        start = (i * B) % (4096 - B)
        step(data[start:start + B]).numpy()  # .numpy() waits for the step to finish

    for i in range(3):
        iteration(i)
    groups, per_group = [], max(1, a.iters // 5)
    for g in range(5):
        t0 = time.perf_counter()
        for i in range(per_group):
            iteration(i)
        groups.append((time.perf_counter() - t0) * 1e3 / per_group)
    med = statistics.median(groups)
    print(f'peer: {a.model}, batch {B}, Keras {keras.__version__} on TensorFlow {tf.__version__}'
          f'{" with XLA" if a.xla else ""}, {a.threads} thread(s): median {med:.2f} ms/iteration '
          f'(min {min(groups):.2f}, max {max(groups):.2f}), {B * 1e3 / med:.0f} img/s')


if __name__ == '__main__':
    main()
