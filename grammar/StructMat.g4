// StructMat: a language for structured linear layers.
// One expression grammar serves dimensions, scalars and matrices; the binder decides which an
// expression is (an integer in `blocks: 2 * 16`, a scale in `2.0 * lowrank(rank: 8)`, a matrix
// product in `perm(reverse) * diag()`), so precedence is the same everywhere.
grammar StructMat;

@lexer::header {#pragma warning disable RS1035}
@parser::header {#pragma warning disable RS1035}

compilationUnit
    : namespaceDecl? declaration* EOF
    ;

namespaceDecl
    : 'namespace' qualifiedName ';'
    ;

qualifiedName
    : IDENT ('.' IDENT)*
    ;

declaration
    : constDecl
    | layerDecl
    ;

// A keyword where the name goes is parsed as the name, so it is one message ("'frozen' is a keyword") and the
// rest of the declaration parses as written.
constDecl
    : 'const' name=(IDENT | 'namespace' | 'const' | 'layer' | 'frozen') '=' expr ';'
    ;

layerDecl
    : 'layer' name=(IDENT | 'namespace' | 'const' | 'layer' | 'frozen') ':' inDim=expr '->' outDim=expr '=' body=expr ';'
    ;

expr
    : '-' expr                          # negateExpr
    | 'frozen' expr                     # frozenExpr
    | expr op=('*' | '/') expr          # multiplicativeExpr
    | expr op=('+' | '-') expr          # additiveExpr
    | '(' expr ')'                      # parenExpr
    | IDENT '(' argumentList? ')'       # callExpr
    | IDENT                             # nameExpr
    | INT                               # intExpr
    | FLOAT                             # floatExpr
    ;

argumentList
    : argument (',' argument)*
    ;

argument
    : IDENT ':' expr                    # namedArgument
    | IDENT '=' expr                    # assignedArgument     // a mistake (`rank = 8`), parsed to be reported as one
    | inDim=expr '->' outDim=expr       # shapeArgument
    | expr                              # positionalArgument
    ;

INT     : [0-9]+ ;
FLOAT   : [0-9]+ '.' [0-9]* EXPONENT? | '.' [0-9]+ EXPONENT? | [0-9]+ EXPONENT ;
// Names follow C#'s identifier rules (so every name can be a C# class or constant): a letter (Unicode
// categories Lu, Ll, Lt, Lm, Lo, Nl) or '_', then letters, decimal digits (Nd), connectors (Pc) and combining
// marks (Mn, Mc). C#'s formatting characters (Cf) are left out: C# ignores them when it compares names.
IDENT   : IDENT_START IDENT_PART* ;

fragment IDENT_START : [\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}_] ;
fragment IDENT_PART  : [\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}\p{Nd}\p{Pc}\p{Mn}\p{Mc}] ;

fragment EXPONENT : [eE] [+-]? [0-9]+ ;

// `///` comments document the declaration that follows; they stay in the token stream on the
// hidden channel so the AST builder can attach them. Listed before LINE_COMMENT so `///` wins.
DOC_COMMENT  : '///' ~[\r\n]* -> channel(HIDDEN) ;
LINE_COMMENT : '//' ~[\r\n]* -> skip ;
BLOCK_COMMENT: '/*' .*? '*/' -> skip ;
// A '/*' that is never closed: it cannot contain '*/', so a closed comment is always the longer match. Kept on
// the hidden channel so the parser reports it at its '/*' (SmxParser), not as a stray '/' and '*'.
UNTERMINATED_COMMENT : '/*' ( ~'*' | '*'+ ~[*/] )* '*'* -> channel(HIDDEN) ;
WS           : [ \t\r\n\u000C]+ -> skip ;
