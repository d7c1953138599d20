// Original file: proto/envoy/type/matcher/v3/string.proto


export interface StringMatcher {
  'exact'?: (string);
  'prefix'?: (string);
  'suffix'?: (string);
  'ignore_case'?: (boolean);
  'contains'?: (string);
  'match_pattern'?: "exact"|"prefix"|"suffix"|"contains";
}

export interface StringMatcher__Output {
  'exact'?: (string);
  'prefix'?: (string);
  'suffix'?: (string);
  'ignore_case': (boolean);
  'contains'?: (string);
  'match_pattern'?: "exact"|"prefix"|"suffix"|"contains";
}
