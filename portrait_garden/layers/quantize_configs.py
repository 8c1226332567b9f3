"""`QuantizeConfig`s for the layers the default 8-bit registry does not know.

tensorflow-model-optimization quantizes stock layers through its registry; the
package's own weight-free layers (and `Rescaling`) need a config that says
"no weights, quantize the output", which is this one.
"""

import tensorflow_model_optimization as tfmot
import tf_keras as keras

_quantizers = tfmot.quantization.keras.quantizers


@keras.utils.register_keras_serializable(package="PortraitGarden")
class OutputQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    """Quantizes only the output of a weight-free layer (8-bit, asymmetric)."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [
            _quantizers.MovingAverageQuantizer(
                num_bits=8, per_axis=False, symmetric=False, narrow_range=False
            )
        ]

    def get_config(self):
        return {}
