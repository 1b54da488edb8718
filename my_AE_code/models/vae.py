"""MyVariationalAutoencoder: the VAE of the posts, with four KL-loss strategies."""

import keras
from keras import layers

from my_AE_code.models.architecture import Architecture
from my_AE_code.models.base import ConvAutoencoderBase
from my_AE_code.models.checks import check_images, check_vae_loss
from my_AE_code.models.kl_strategies import STRATEGIES, posts_dummy_targets
from my_AE_code.models.layers import LayerSeeds, Sampling, decoder_body, encoder_body


class MyVariationalAutoencoder(ConvAutoencoderBase):
    """Conv Encoder -> (mu, log_var) -> sampled z -> conv Decoder.

    ``solution_type`` picks how the KL loss is handled (0: KL layer in the
    Encoder, 1: mu/log_var as extra outputs, 2: model-level loss, 3: own
    ``train_step``); see `my_AE_code.models.kl_strategies`.

    ``fact`` weighs the KL loss against the reconstruction loss, in one of two
    conventions (`my_AE_code.models.losses` has the formulas):

    - solution_type 0, 1, 2: BCE averaged over pixels, KL =
      ``-fact * mean(1 + log_var - mu**2 - exp(log_var))``; fact about 1e-3 on MNIST.
    - solution_type 3: BCE summed over pixels, KL =
      ``fact * -0.5 * sum(1 + log_var - mu**2 - exp(log_var))`` per image, both
      averaged over the batch; fact about 5 on CelebA, 1e-5 for a "tiny KL" VAE.

    ``fact=None`` takes the strategy's ``default_fact`` (1e-3 for 0-2, 1.0 for 3).

    ``enc_dense_units`` adds a Dense layer between Flatten and mu/log_var
    (post XII), which cuts the Encoder's parameters sharply for big images.

    The twelve parameters that shape the layers are kept together as
    ``vae.architecture`` (an `Architecture`: ``vae.architecture.z_dim``);
    ``vae.params`` holds every parameter as ``params.json`` saves it.

    ``seed`` makes the model repeatable: two models built with the same seed
    start from the same weights, draw the same sampling and dropout noise and,
    trained on an array, see its images in the same order. None leaves all of
    that to Keras's global seed (``keras.utils.set_random_seed``).

    ``dtype_policy`` (None/"float32", "mixed_float16", "mixed_bfloat16") lets
    the layers compute in 16 bits; mu, log_var, z, the KL loss and the images
    stay float32. ``distribute`` builds and trains the model under a
    tf.distribute strategy (None: the one whose scope is active), with
    ``batch_size`` the global batch. `my_AE_code.models.scaling` has the
    details, multi-machine training included.
    """

    def __init__(self, input_dim, encoder_conv_filters, encoder_conv_kernel_size,
                 encoder_conv_strides, decoder_conv_t_filters, decoder_conv_t_kernel_size,
                 decoder_conv_t_strides, z_dim, use_batch_norm=False, use_dropout=False, act=0,
                 solution_type=0, fact=None, enc_dense_units=None, seed=None, dtype_policy=None,
                 distribute=None):
        check_vae_loss(solution_type, fact, STRATEGIES)
        architecture = Architecture(
            input_dim, encoder_conv_filters, encoder_conv_kernel_size, encoder_conv_strides,
            decoder_conv_t_filters, decoder_conv_t_kernel_size, decoder_conv_t_strides, z_dim,
            use_batch_norm, use_dropout, act, enc_dense_units)
        self.solution_type = solution_type
        self.fact = float(STRATEGIES[solution_type].default_fact if fact is None else fact)
        super().__init__(architecture, seed=seed, dtype_policy=dtype_policy,
                         distribute=distribute)

    def _loss_params(self):
        return {"solution_type": self.solution_type, "fact": self.fact}

    @classmethod
    def check_params(cls, params):
        super().check_params(params)
        params = cls._with_defaults(params)
        check_vae_loss(params["solution_type"], params["fact"], STRATEGIES)

    @classmethod
    def weight_count(cls, params):
        architecture = Architecture.from_params(params)
        body, features = architecture.weight_count()
        # mu and log_var, and the Sampling's eps_factor
        return body + 2 * (features * architecture.z_dim + architecture.z_dim) + 1

    def _build(self):
        self.strategy = STRATEGIES[self.solution_type](self.architecture.z_dim)
        seeds = LayerSeeds(self.seed)
        self.encoder = self._build_encoder(seeds)
        self.decoder = self._build_decoder(seeds)
        self.model = self.strategy.build_model(self.encoder, self.decoder, self.fact)

    def _build_encoder(self, seeds):
        encoder_input = keras.Input(shape=self.architecture.input_dim, name="encoder_input")
        x = encoder_body(encoder_input, self.architecture, seeds)
        # From mu and log_var on, float32 under any policy: they feed the KL loss.
        z_dim = self.architecture.z_dim
        mu = layers.Dense(z_dim, kernel_initializer=seeds.initializer("glorot_uniform"),
                          dtype="float32", name="mu")(x)
        log_var = layers.Dense(z_dim, kernel_initializer=seeds.initializer("glorot_uniform"),
                               dtype="float32", name="log_var")(x)
        mu, log_var = self.strategy.in_encoder(mu, log_var, self.fact)  # strategy 0's KL layer
        self._sampling = Sampling(seed=seeds.next(), dtype="float32", name="encoder_output")
        z = self._sampling([mu, log_var])
        return keras.Model(encoder_input, [z, mu, log_var], name="encoder")

    def _build_decoder(self, seeds):
        decoder_input = keras.Input(shape=(self.architecture.z_dim,), name="decoder_input")
        image = decoder_body(decoder_input, self.architecture, seeds)
        return keras.Model(decoder_input, image, name="decoder")

    def _targets(self, x):
        return self.strategy.targets(x)

    # --- switching the sampling off and on (post XIV) ---------------------------------

    @property
    def enc_v_eps_factor(self):
        """Factor on eps in the sampling: 1.0 samples around mu, 0.0 makes z equal mu."""
        return float(self._sampling.eps_factor.numpy())

    @enc_v_eps_factor.setter
    def enc_v_eps_factor(self, value):
        self._sampling.eps_factor.assign(float(value))

    def set_enc_to_predict(self):
        """z = mu from the next predict on; no recompiling needed (it is a variable)."""
        self.enc_v_eps_factor = 0.0

    def set_enc_to_train(self):
        """Sample z around mu again, as training needs."""
        self.enc_v_eps_factor = 1.0

    # --- compile and train ------------------------------------------------------------

    def compile_myVAE(self, learning_rate=0.0005, jit_compile="auto"):
        """Adam with the loss setup of the chosen solution_type.

        ``jit_compile`` is Keras's switch for XLA: ``"auto"`` turns it on only
        where a GPU (or TPU) is visible and no tf.distribute strategy is used,
        so a reader's GPU run takes XLA and a CPU run does not; True or False
        forces it. ``vae.model.jit_compile`` says what was chosen. See
        `my_AE_code.models.scaling` for what it does to speed.
        """
        self._compile(learning_rate, self.strategy.compile, jit_compile)

    def train_myVAE(self, x_train, batch_size, epochs, initial_epoch=0, t_mu=None, t_logvar=None,
                    callbacks=None, verbose="auto", validation_data=None, shuffle=True,
                    checkpoint_dir=None):
        """Train on images: a numpy array, or a tf.data.Dataset that yields batches.

        ``t_mu`` and ``t_logvar`` are post VI's dummy targets for solution_type 1.
        They are accepted for readers of that post but never needed: without
        them, zeros are made per batch instead of N x z_dim arrays.

        ``checkpoint_dir`` saves a checkpoint after every epoch and, if the
        folder already holds some, first continues from the latest one (see
        my_AE_code.models.checkpoints): re-running the cell after a crash resumes.
        """
        if t_mu is not None or t_logvar is not None:
            check_images(x_train, self.architecture.input_dim)
            train = posts_dummy_targets(self.strategy, x_train, t_mu, t_logvar, batch_size,
                                        shuffle, self.seed)
        else:
            train = self._batches(x_train, batch_size, shuffle)
        return self._fit(train, batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                         callbacks=callbacks, verbose=verbose, validation_data=validation_data,
                         checkpoint_dir=checkpoint_dir)
