package admin

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field is one member of an Obj.
type Field struct {
	Key   string
	Value any
}

// Obj is a JSON object that keeps its members in order, as the Java
// LinkedHashMaps behind ZooKeeper's command responses do.
type Obj []Field

// Put sets k to v: in place if k is already there, else at the end
// (LinkedHashMap.put).
func (o *Obj) Put(k string, v any) {
	for i := range *o {
		if (*o)[i].Key == k {
			(*o)[i].Value = v
			return
		}
	}
	*o = append(*o, Field{k, v})
}

// Get returns the value of k.
func (o Obj) Get(k string) (any, bool) {
	for _, f := range o {
		if f.Key == k {
			return f.Value, true
		}
	}
	return nil, false
}

// Keys returns the member names in order.
func (o Obj) Keys() []string {
	ks := make([]string, len(o))
	for i, f := range o {
		ks[i] = f.Key
	}
	return ks
}

// MarshalJSON writes o as Jackson's ObjectMapper with INDENT_OUTPUT does
// (DefaultPrettyPrinter): two spaces per nested object, `"key" : value`,
// arrays on one line (`[ 1, 2 ]`, `[ ]`, `{ }`), doubles as Java prints
// them, no newline at the end. The values it knows are nil, bool, string,
// the integer types, float64, Obj, and slices of those ([]any, []string,
// []int64, []Obj).
func (o Obj) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	if err := writeJSON(&b, o, 0); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func writeJSON(b *strings.Builder, v any, nesting int) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJSONString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			// Jackson writes these as strings unless told otherwise.
			writeJSONString(b, JavaDouble(x))
		} else {
			b.WriteString(JavaDouble(x))
		}
	case Obj:
		if len(x) == 0 {
			b.WriteString("{ }")
			return nil
		}
		b.WriteString("{")
		for i, f := range x {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n")
			b.WriteString(strings.Repeat("  ", nesting+1))
			writeJSONString(b, f.Key)
			b.WriteString(" : ")
			if err := writeJSON(b, f.Value, nesting+1); err != nil {
				return err
			}
		}
		b.WriteString("\n")
		b.WriteString(strings.Repeat("  ", nesting))
		b.WriteString("}")
	case []any:
		return writeArray(b, len(x), func(i int) any { return x[i] }, nesting)
	case []string:
		return writeArray(b, len(x), func(i int) any { return x[i] }, nesting)
	case []int64:
		return writeArray(b, len(x), func(i int) any { return x[i] }, nesting)
	case []Obj:
		return writeArray(b, len(x), func(i int) any { return x[i] }, nesting)
	default:
		return fmt.Errorf("admin: cannot write %T as JSON", v)
	}
	return nil
}

// writeArray writes an array as Jackson's FixedSpaceIndenter does: inline,
// without raising the nesting of objects inside it.
func writeArray(b *strings.Builder, n int, at func(int) any, nesting int) error {
	if n == 0 {
		b.WriteString("[ ]")
		return nil
	}
	b.WriteString("[ ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := writeJSON(b, at(i), nesting); err != nil {
			return err
		}
	}
	b.WriteString(" ]")
	return nil
}

// writeJSONString quotes s as Jackson does: the two-character escapes for
// the usual control characters, \u00XX for the others, everything else
// (including '/', '<' and non-ASCII) as is. Invalid UTF-8 becomes U+FFFD.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xF])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
}

// JavaDouble formats v as Java's Double.toString does: "0.0", "1.5",
// "369.3333", "1.0E7", "1.0E-4". ZooKeeper's mntr and its JSON print
// doubles this way.
func JavaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'e', -1, 64) // "1e+07", "1.2345e-04"
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// Round4 rounds v to 4 decimals the way ZooKeeper's AvgMinMaxCounter.getAvg
// does (new BigDecimal(v).setScale(4, HALF_UP): exact binary value, ties away
// from zero).
func Round4(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r := new(big.Rat).SetFloat64(v)
	neg := r.Sign() < 0
	r.Abs(r)
	r.Mul(r, big.NewRat(10000, 1))
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // floor, r >= 0
	f, _ := new(big.Rat).SetFrac(q, big.NewInt(10000)).Float64()
	if neg {
		f = -f
	}
	return f
}

// FormatValue formats a value as mntr prints it: integers in decimal,
// doubles as Java doubles, strings as they are.
func FormatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return JavaDouble(x)
	case string:
		return x
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}
