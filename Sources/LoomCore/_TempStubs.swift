import Glibc
public enum DetMath {
  public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
  public static func expm1(_ x: Double) -> Double { Glibc.expm1(x) }
  public static func log(_ x: Double) -> Double { Glibc.log(x) }
  public static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
  public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
  public static func sigmoid(_ x: Double) -> Double { 1/(1+Glibc.exp(-x)) }
  public static func softplus(_ x: Double) -> Double { Glibc.log1p(Glibc.exp(x)) }
  public static func erf(_ x: Double) -> Double { Glibc.erf(x) }
  public static func sin(_ x: Double) -> Double { Glibc.sin(x) }
  public static func cos(_ x: Double) -> Double { Glibc.cos(x) }
  public static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
  public static func exp(_ x: Float) -> Float { Float(exp(Double(x))) }
  public static func expm1(_ x: Float) -> Float { Float(expm1(Double(x))) }
  public static func log(_ x: Float) -> Float { Float(log(Double(x))) }
  public static func log1p(_ x: Float) -> Float { Float(log1p(Double(x))) }
  public static func tanh(_ x: Float) -> Float { Float(tanh(Double(x))) }
  public static func sigmoid(_ x: Float) -> Float { Float(sigmoid(Double(x))) }
  public static func softplus(_ x: Float) -> Float { Float(softplus(Double(x))) }
  public static func erf(_ x: Float) -> Float { Float(erf(Double(x))) }
  public static func sin(_ x: Float) -> Float { Float(sin(Double(x))) }
  public static func cos(_ x: Float) -> Float { Float(cos(Double(x))) }
  public static func pow(_ x: Float, _ y: Float) -> Float { Float(pow(Double(x), Double(y))) }
}
