// metav1 LabelSelector validation (upstream's ValidateLabelSelector), for any field holding one.
import { fieldErr, type FieldError } from '../errors.js';
import { isPlainObject } from '../meta.js';
import { isLabelValue, isQualifiedName } from './names.js';
import { validateLabels } from './objectmeta.js';

export function validateLabelSelector(selector: unknown, path: string): FieldError[] {
  if (!isPlainObject(selector)) return [];
  const errs = validateLabels(selector.matchLabels, `${path}.matchLabels`);
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  exprs.forEach((expr, i) => {
    const e = isPlainObject(expr) ? expr : {};
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(e.values) ? e.values : [];
    const op = typeof e.operator === 'string' ? e.operator : '';
    switch (op) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          errs.push(fieldErr.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          errs.push(
            fieldErr.forbidden(
              `${p}.values`,
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        }
        break;
      default:
        errs.push(fieldErr.invalid(`${p}.operator`, op, 'not a valid selector operator'));
    }
    const key = typeof e.key === 'string' ? e.key : '';
    for (const msg of isQualifiedName(key)) errs.push(fieldErr.invalid(`${p}.key`, key, msg));
    values.forEach((v, j) => {
      const value = typeof v === 'string' ? v : String(v);
      for (const msg of isLabelValue(value)) errs.push(fieldErr.invalid(`${p}.values[${j}]`, value, msg));
    });
  });
  return errs;
}
