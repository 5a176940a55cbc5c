import LoomCore
import LoomNN

/// `loom demo`: train a digits classifier, save it, reload it, prove the outputs identical.
public enum Demo {
    public static let networkJSON = """
    {
      "format": "loom", "version": 1, "name": "digits-mlp", "dtype": "f32", "seed": 2026,
      "input": {"shape": [64]},
      "layers": [
        {"type": "dense", "units": 128, "activation": "relu"},
        {"type": "dropout", "rate": 0.1},
        {"type": "dense", "units": 64, "activation": "gelu"},
        {"type": "layer_norm"},
        {"type": "dense", "units": 10}
      ],
      "training": {
        "loss": "cross_entropy",
        "optimizer": {"type": "adamw", "lr": 0.003, "weight_decay": 0.01},
        "scheduler": {"type": "warmup", "steps": 45, "start_factor": 0.1,
                      "after": {"type": "cosine", "total_steps": 940, "min_lr": 0.0001}},
        "epochs": 24, "batch_size": 32, "validation_split": 0.1
      }
    }
    """

    public struct Report {
        public var testAccuracy: Double
        public var testSamples: Int
        public var outputHash: String
        public var reloadedHash: String
        public var history: TrainingHistory
    }

    /// Splits the 1797 samples 80/20 by a seeded permutation (stream "demo-test-split").
    public static func split<T: LoomFloat>(_ x: Tensor<T>, _ y: Tensor<T>, seed: UInt64) -> (Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>) {
        let n = x.batch
        let perm = Philox(seed: seed).permutation(n, stream: StreamID.of("demo-test-split"))
        let nTest = n / 5
        let test = Array(perm[0..<nTest]), train = Array(perm[nTest...])
        return (x.gather(batch: train), y.gather(batch: train), x.gather(batch: test), y.gather(batch: test))
    }

    public static func run(context: ComputeContext, savePath: String, log: (String) -> Void,
                           progress: ((BatchProgress) -> Void)? = nil,
                           epochEnd: ((EpochReport) -> Void)? = nil) throws(LoomError) -> Report {
        let spec = try IRDecoder.decode(json: networkJSON, source: "demo")
        let net = try Network<Float>(spec)
        let (x, y) = Digits.load(as: Float.self)
        let (xTrain, yTrain, xTest, yTest) = split(x, y, seed: spec.seed)
        log("digits: \(x.batch) samples of 8×8 pixels, \(xTrain.batch) for training (10% of them held out for validation), \(xTest.batch) for testing")
        log("network: 64 → dense 128 relu → dropout 0.1 → dense 64 gelu → layer_norm → dense 10 (\(net.params.scalarCount) parameters), AdamW + warm-up + cosine, \(context.threads) thread(s)")
        let trainer = Trainer(network: net, spec: spec.training!, context: context)
        let history = try trainer.fit(inputs: xTrain, targets: yTrain, progress: progress, epochEnd: epochEnd)
        let (_, acc) = try trainer.evaluate(xTest, yTest)
        let out = try net.forward(xTest, context: context)
        try FileIO.write(savePath, text: ModelCodec.encode(net, optimizer: trainer.optimizer))
        let reloaded = try AnyNetwork.load(path: savePath)
        guard case .f32(let net2, _) = reloaded else { throw LoomError(.invalidModel, savePath, "reloaded with another dtype") }
        let out2 = try net2.forward(xTest, context: context)
        return Report(testAccuracy: acc ?? 0, testSamples: xTest.batch, outputHash: out.bitHash.hex,
                      reloadedHash: out2.bitHash.hex, history: history)
    }
}
